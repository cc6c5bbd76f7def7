/**
 * How a validation failure is shown to a person, wherever it happens (job
 * data, outcome reports, config, environment, `/countersign policy`, the
 * CLI): each error names its field and says what was expected, e.g.
 * `action.params.amountUsd: Invalid input: expected number, received string`
 * or `agent: Required (expected object)`. Never zod's JSON dump, whose first
 * line is "[".
 */
export interface FieldError {
  /** `routes[2].channel`; `(root)` for the input as a whole. */
  path: string;
  message: string;
}

/** `['routes', 2, 'channel']` → `routes[2].channel`. */
export function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/**
 * zod's error customizer for every schema a person's input goes through: a
 * missing field reads "Required (expected string)" rather than zod's
 * "Invalid input: expected string, received undefined". Everything else
 * keeps zod's message, which already says what was expected.
 */
export function requiredMessage(issue: { code?: string; input?: unknown; expected?: unknown }): string | undefined {
  if (issue.code !== 'invalid_type' || issue.input !== undefined) return undefined;
  return typeof issue.expected === 'string' ? `Required (expected ${issue.expected})` : 'Required';
}

/** The issues of a failed parse, each with its field; `root` names the whole input (default `(root)`). */
export function fieldErrors(error: { issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }> }, root = '(root)'): FieldError[] {
  return error.issues.map((i) => ({ path: pathOf(i.path) || root, message: i.message }));
}

/** One line: `agent: Invalid input: expected object, received string; action: Required (expected object)`. */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
