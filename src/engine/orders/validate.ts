import { Rejections } from './rejections.js';
import { ORDER_TYPES, type OrderRequest, type Rejection } from './types.js';

const TIFS = new Set(['GTC', 'IOC', 'FOK']);
/** Binance's pattern for newClientOrderId. */
const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

const isPosInt = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

/**
 * Parameter checks Binance makes before any filter: which parameters each order type requires
 * (-1102) or refuses (-1106), valid enums (-1115/-1116/-1117) and a legal client order id.
 */
export function validateRequest(r: OrderRequest): Rejection | undefined {
  if (r.side !== 'BUY' && r.side !== 'SELL') return Rejections.invalidSide();
  if (!ORDER_TYPES.includes(r.type)) return Rejections.invalidType();
  if (r.timeInForce !== undefined && !TIFS.has(r.timeInForce)) return Rejections.invalidTif();
  if (r.clientOrderId !== undefined) {
    if (r.clientOrderId === '') return Rejections.emptyClientId();
    if (!CLIENT_ID.test(r.clientOrderId)) {
      return { code: -1100, msg: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'." };
    }
  }
  const t = r.type;
  const needsTif = t === 'LIMIT' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT_LIMIT';
  const needsPrice = needsTif || t === 'LIMIT_MAKER';
  const needsStop = t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';
  if (needsTif && r.timeInForce === undefined) return Rejections.mandatory('timeInForce');
  if (!needsTif && r.timeInForce !== undefined) return Rejections.notRequired('timeInForce');
  if (t === 'MARKET') {
    if (r.qty === undefined && r.quoteOrderQty === undefined) return Rejections.eitherParam('quantity', 'quoteOrderQty');
    if (r.qty !== undefined && r.quoteOrderQty !== undefined) return Rejections.notRequired('quoteOrderQty');
    if (r.quoteOrderQty !== undefined && r.quoteOrderQty <= 0n) return Rejections.mandatory('quoteOrderQty');
  } else {
    if (r.quoteOrderQty !== undefined) return Rejections.notRequired('quoteOrderQty');
    if (r.qty === undefined) return Rejections.mandatory('quantity');
  }
  if (r.qty !== undefined && !isPosInt(r.qty)) return Rejections.mandatory('quantity');
  if (needsPrice) {
    if (r.price === undefined || !isPosInt(r.price)) return Rejections.mandatory('price');
  } else if (r.price !== undefined) {
    return Rejections.notRequired('price');
  }
  if (needsStop) {
    if (r.stopPrice === undefined || !isPosInt(r.stopPrice)) return Rejections.mandatory('stopPrice');
  } else if (r.stopPrice !== undefined) {
    return Rejections.notRequired('stopPrice');
  }
  return undefined;
}
