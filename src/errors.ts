import { describeErrors, type FieldError } from './domain/validation.js';

/**
 * Coded errors, in one place (after bolt-js `src/errors.ts`): callers branch
 * on `code`, never on message text.
 */
export const ErrorCode = {
  RateLimited: 'countersign_rate_limited',
  SlackCall: 'countersign_slack_call',
  InvalidEscalation: 'countersign_invalid_escalation',
  DigestMismatch: 'countersign_digest_mismatch',
  Config: 'countersign_config',
  Timeout: 'countersign_timeout',
  NoInput: 'countersign_no_input',
  InvalidInput: 'countersign_invalid_input',
  CallbackRefused: 'countersign_callback_refused',
  NotApproved: 'countersign_not_approved',
  StepHeld: 'countersign_step_held',
  ShuttingDown: 'countersign_shutting_down',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class CountersignError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CountersignError';
  }
}

/** Slack answered 429: wait `retryAfterMs` before calling `method` for this key again. */
export class RateLimitedError extends CountersignError {
  constructor(
    readonly method: string,
    readonly retryAfterMs: number,
  ) {
    super(ErrorCode.RateLimited, `${method} rate limited; retry after ${retryAfterMs} ms`);
    this.name = 'RateLimitedError';
  }
}

/**
 * A Slack call failed. `definite` is true when Slack answered (ok:false), so
 * nothing was done; false when the outcome is unknown (timeout, 5xx, reset).
 * `settled`: Slack answered at all (any status), so the call can no longer
 * take effect later; false when no answer came (a timeout, a reset), and a
 * post may still land after this error.
 */
export class SlackCallError extends CountersignError {
  constructor(
    readonly method: string,
    readonly slackError: string,
    readonly definite: boolean,
    readonly settled: boolean = definite,
  ) {
    super(ErrorCode.SlackCall, `${method} failed: ${slackError}`);
    this.name = 'SlackCallError';
  }

  /** Slack refused the call and would refuse it again (channel_not_found, invalid_blocks…): retrying cannot help. */
  get permanent(): boolean {
    return this.definite && !TRANSIENT_SLACK_ERRORS.has(this.slackError);
  }
}

/** A person's input failed validation; `errors` name each field and what was expected. */
export class InvalidInputError extends CountersignError {
  constructor(readonly errors: FieldError[]) {
    super(ErrorCode.InvalidInput, describeErrors(errors));
    this.name = 'InvalidInputError';
  }
}
/** `ok: false` answers that Slack documents as its own trouble, worth retrying (api.slack.com, every method's Errors table). */
const TRANSIENT_SLACK_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

export class TimeoutError extends CountersignError {
  constructor(message: string) {
    super(ErrorCode.Timeout, message);
    this.name = 'TimeoutError';
  }
}

/** Something a command reads is not there: an input file, or a Countersign database (the CLI exits 66, EX_NOINPUT). */
export class NoInputError extends CountersignError {
  constructor(message: string) {
    super(ErrorCode.NoInput, message);
    this.name = 'NoInputError';
  }
}

/** A callback the config does not allow: its host, or the address it resolved to on connecting. Never retried. */
export class CallbackRefusedError extends CountersignError {
  constructor(message: string) {
    super(ErrorCode.CallbackRefused, message);
    this.name = 'CallbackRefusedError';
  }
}

/** A framework adapter refused to run a tool: Countersign denied it, or nobody decided in time. The message is what the model reads. */
export class NotApprovedError extends CountersignError {
  constructor(message: string) {
    super(ErrorCode.NotApproved, message);
    this.name = 'NotApprovedError';
  }
}

/**
 * Another run of the same job holds this step's claim (src/db/queries/leases.ts):
 * BullMQ handed the job out twice. Not a failure: retry in `retryInMs`, when the
 * claim lapses or the other run has finished.
 */
export class StepHeldError extends CountersignError {
  constructor(
    readonly step: 'card' | 'callback',
    readonly retryInMs: number,
  ) {
    super(ErrorCode.StepHeld, `${step} being handled by another run of its job; retry in ${retryInMs} ms`);
    this.name = 'StepHeldError';
  }
}

/** Work taken ahead of its turn (src/queue/fair-gate.ts) when the process began to stop: it was never started. */
export class ShuttingDownError extends CountersignError {
  constructor() {
    super(ErrorCode.ShuttingDown, 'shutting down: not started');
    this.name = 'ShuttingDownError';
  }
}
