import { z } from 'zod';

/**
 * Declarative conditions over an action's params. Checked by zod at load and
 * interpreted here; never eval'd. `param` is a dotted path into the params
 * (`customer.email`), compared with one operator.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** Regex sources are length-capped to keep pathological patterns out of the hot path. */
const regexSource = z
  .string()
  .max(200)
  .refine((s) => {
    try {
      new RegExp(s, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');
const domainList = z.array(z.string().regex(/^\*?\.?[a-z0-9.-]+$/i, 'must be a domain like example.com or *.example.com')).min(1);

export const paramTestSchema = z
  .object({
    param: z.string().min(1).max(200),
    eq: scalar.optional(),
    ne: scalar.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    between: z.tuple([z.number(), z.number()]).optional(),
    in: z.array(scalar).min(1).optional(),
    notIn: z.array(scalar).min(1).optional(),
    matches: regexSource.optional(),
    glob: z.string().max(200).optional(),
    /** Every address (or URL host) in the param lies in these domains. */
    inDomains: domainList.optional(),
    /** At least one address (or URL host) lies outside these domains. */
    notInDomains: domainList.optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .refine((t) => Object.keys(t).filter((k) => k !== 'param').length === 1, {
    message: 'needs exactly one operator (eq, ne, gt, gte, lt, lte, between, in, notIn, matches, glob, inDomains, notInDomains, exists)',
  });

export type ParamTest = z.infer<typeof paramTestSchema>;

export type Condition = ParamTest | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(conditionSchema).min(1) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1) }).strict(),
    z.object({ not: conditionSchema }).strict(),
    paramTestSchema,
  ]),
);

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Compiled once per pattern (policy and routing ask on every request); bounded at 1,000 patterns. */
const compiledGlobs = new Map<string, RegExp>();

/** The pattern itself when it has no wildcard (case and whitespace matter), else a glob over the value. */
export function matchesGlob(pattern: string, value: string): boolean {
  if (pattern === value) return true;
  if (!/[*?]/.test(pattern)) return false;
  let re = compiledGlobs.get(pattern);
  if (!re) {
    if (compiledGlobs.size > 1000) compiledGlobs.clear();
    compiledGlobs.set(pattern, (re = globToRegExp(pattern)));
  }
  return re.test(value);
}

/** `*` matches any run of characters except `.`; `**` matches anything. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.]*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/** The domains named by a value: e-mail addresses, URLs or bare hosts, in strings or arrays. */
export function domainsOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') continue;
    for (const part of item.split(/[,;\s]+/).filter(Boolean)) {
      const at = part.lastIndexOf('@');
      if (at >= 0) {
        out.push(part.slice(at + 1).replace(/[>)\]"']+$/, '').toLowerCase());
        continue;
      }
      try {
        out.push(new URL(part).hostname.toLowerCase());
      } catch {
        // A bare host counts; a display name ("Ann") names no domain.
        if (part.includes('.')) out.push(part.replace(/^[<(["']+|[>)\]"']+$/g, '').toLowerCase());
      }
    }
  }
  return out;
}

function inDomain(domain: string, list: readonly string[]): boolean {
  return list.some((d) => {
    const want = d.toLowerCase().replace(/^\*\./, '').replace(/^\./, '');
    return domain === want || domain.endsWith(`.${want}`);
  });
}

const regexCache = new Map<string, RegExp>();
function cached(key: string, make: () => RegExp): RegExp {
  let re = regexCache.get(key);
  if (!re) {
    re = make();
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

function testParam(t: ParamTest, params: Record<string, unknown>): boolean {
  const v = getPath(params, t.param);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (t.exists !== undefined) return (v !== undefined) === t.exists;
  if (t.eq !== undefined) return v === t.eq;
  if (t.ne !== undefined) return v !== t.ne;
  if (t.gt !== undefined) return n > t.gt;
  if (t.gte !== undefined) return n >= t.gte;
  if (t.lt !== undefined) return n < t.lt;
  if (t.lte !== undefined) return n <= t.lte;
  if (t.between !== undefined) return n >= t.between[0] && n <= t.between[1];
  if (t.in !== undefined) return t.in.includes(v as never);
  if (t.notIn !== undefined) return v !== undefined && !t.notIn.includes(v as never);
  if (t.matches !== undefined) return typeof v === 'string' && cached(`m:${t.matches}`, () => new RegExp(t.matches!, 'u')).test(v);
  if (t.glob !== undefined) return typeof v === 'string' && cached(`g:${t.glob}`, () => globToRegExp(t.glob!)).test(v);
  if (t.inDomains !== undefined) {
    const ds = domainsOf(v);
    return ds.length > 0 && ds.every((d) => inDomain(d, t.inDomains!));
  }
  if (t.notInDomains !== undefined) return domainsOf(v).some((d) => !inDomain(d, t.notInDomains!));
  return false;
}

/** True when the condition holds for these params. A missing param fails every test but `exists: false`. */
export function holds(c: Condition, params: Record<string, unknown>): boolean {
  if ('all' in c) return c.all.every((x) => holds(x, params));
  if ('any' in c) return c.any.some((x) => holds(x, params));
  if ('not' in c) return !holds(c.not, params);
  return testParam(c, params);
}

/** A short human reading of a condition, for cards and `policy check`. */
export function describeCondition(c: Condition): string {
  if ('all' in c) return c.all.map(describeCondition).join(' and ');
  if ('any' in c) return `(${c.any.map(describeCondition).join(' or ')})`;
  if ('not' in c) return `not (${describeCondition(c.not)})`;
  const [op, value] = Object.entries(c).find(([k]) => k !== 'param')!;
  const symbols: Record<string, string> = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };
  return `${c.param} ${symbols[op] ?? op} ${JSON.stringify(value)}`;
}
