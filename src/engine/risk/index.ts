export * from './limits.js';
export * from './rejections.js';
export * from './view.js';
export * from './engine.js';
export * from './format.js';
export * from './hook.js';
