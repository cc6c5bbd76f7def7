/**
 * Numbers as people read them, in every card, command reply and Home view:
 * "$2,400.00", "8,000 tokens", "1 request", "62.5%". en-US, like the rest of
 * the bot's text. Pure, so builders and flows share one way of saying it.
 */

const MONEY = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** Below a cent, cents would say "$0.00": two significant digits instead ("$0.0042" per token). */
const SUB_CENT = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 });
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const PERCENT = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 2 });
const PLURAL = new Intl.PluralRules('en-US');

/** US dollars: "$2,400.00", "$0.41", and "$0.0042" for a cost below a cent. */
export function usd(dollars: number): string {
  return dollars !== 0 && Math.abs(dollars) < 0.01 ? SUB_CENT.format(dollars) : MONEY.format(dollars);
}

/** Micro-dollars (how budgets and spend are stored) as `usd`. */
export function usdMicros(micros: number): string {
  return usd(micros / 1e6);
}

/** A whole count with grouping: "8,000". */
export function count(n: number): string {
  return COUNT.format(n);
}

/**
 * A count and its noun, in the right form: "1 request", "2 requests",
 * "8,000 tokens". `many` defaults to `one` + "s".
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${PLURAL.select(n) === 'one' ? one : many}`;
}

/** A fraction (0–1) as a percentage: 0.625 → "62.5%", 0.02 → "2%", 1/3 → "33.33%". */
export function percent(fraction: number): string {
  return PERCENT.format(fraction);
}

const DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** Any number a person reads, grouped, up to six decimals: "1,234.5", "0.125". */
export function decimal(n: number): string {
  return DECIMAL.format(n);
}

/**
 * An age or wait as people say it, rounded down to its largest units:
 * "40 s", "3 min", "2 h 5 min", "3 d 4 h". Negative counts as 0.
 */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${count(d)} d ${h % 24} h` : `${count(d)} d`;
}
