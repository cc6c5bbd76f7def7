/**
 * What the sandbox page needs beyond the Web API fake's own state: ephemeral
 * messages per user, which user a trigger_id (and so a modal) belongs to,
 * each user's stack of open modals, and a version the page polls for.
 */
import { randomBytes } from 'node:crypto';

export interface Ephemeral { channel: string; user: string; ts: string; text: string; blocks?: unknown[] }
export interface Activity { at: number; what: string; status: number | string }

const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

export class SandboxWorld {
  version = 0;
  readonly ephemerals: Ephemeral[] = [];
  readonly activity: Activity[] = [];
  /** Validation errors the bot answered for a view, keyed by view id. */
  readonly viewErrors = new Map<string, Record<string, string>>();
  readonly #triggers = new Map<string, string>();
  readonly #stacks = new Map<string, string[]>();

  bump(): void {
    this.version++;
  }

  /** A trigger_id as Slack makes them, remembered as this user's. */
  newTrigger(user: string): string {
    const id = `${digits(13)}.${digits(10)}.${randomBytes(16).toString('hex')}`;
    this.#triggers.set(id, user);
    if (this.#triggers.size > 1000) this.#triggers.delete(this.#triggers.keys().next().value!);
    return id;
  }

  /** views.open (a new stack) or views.push (on top of the user's stack). */
  viewOpened(triggerId: string, viewId: string, push: boolean): void {
    const user = this.#triggers.get(triggerId);
    if (!user) return;
    const stack = push ? (this.#stacks.get(user) ?? []) : [];
    this.#stacks.set(user, [...stack, viewId]);
  }

  topView(user: string): string | undefined {
    return this.#stacks.get(user)?.at(-1);
  }

  closeTop(user: string): void {
    const stack = this.#stacks.get(user) ?? [];
    this.#stacks.set(user, stack.slice(0, -1));
  }

  closeAll(user: string): void {
    this.#stacks.delete(user);
  }

  replaceTop(user: string, viewId: string): void {
    const stack = this.#stacks.get(user) ?? [];
    this.#stacks.set(user, [...stack.slice(0, -1), viewId]);
  }

  pushView(user: string, viewId: string): void {
    this.#stacks.set(user, [...(this.#stacks.get(user) ?? []), viewId]);
  }

  note(what: string, status: number | string): void {
    this.activity.push({ at: Date.now(), what, status });
    if (this.activity.length > 50) this.activity.shift();
    this.bump();
  }

  reset(): void {
    this.ephemerals.length = 0;
    this.activity.length = 0;
    this.viewErrors.clear();
    this.#triggers.clear();
    this.#stacks.clear();
    this.bump();
  }
}
