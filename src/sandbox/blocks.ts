/**
 * Block Kit → HTML for the sandbox page. Everything from a message or view
 * goes through escapeHtml (directly or via mrkdwn.ts); attributes too.
 */
import { escapeHtml, mrkdwnToHtml, plainToHtml, textObjectToHtml } from './mrkdwn.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Where a button lives, so a click can be traced back to the stored block. */
export type Container = { kind: 'message'; channel: string; ts: string } | { kind: 'view'; viewId: string };

/** Slack gives blocks without an id a generated one; the sandbox uses the index. */
export const blockIdOf = (block: unknown, index: number): string => s(obj(block).block_id) || `b${index}`;

function containerAttrs(c: Container): string {
  return c.kind === 'message'
    ? `data-kind="message" data-channel="${escapeHtml(c.channel)}" data-ts="${escapeHtml(c.ts)}"`
    : `data-kind="view" data-view="${escapeHtml(c.viewId)}"`;
}

function button(el: Obj, blockId: string, c: Container): string {
  const style = s(el.style) === 'primary' || s(el.style) === 'danger' ? ` ${s(el.style)}` : '';
  if (s(el.url)) {
    return `<a class="btn${style}" href="${escapeHtml(/^https?:/i.test(s(el.url)) ? s(el.url) : '#')}" target="_blank" rel="noopener noreferrer">${textObjectToHtml(el.text)}</a>`;
  }
  const confirm = el.confirm ? confirmHtml(obj(el.confirm)) : '';
  return `<button type="button" class="btn${style}" ${containerAttrs(c)} data-block="${escapeHtml(blockId)}" data-action="${escapeHtml(s(el.action_id))}"${confirm ? ' data-confirm="1"' : ''}>${textObjectToHtml(el.text)}</button>${confirm}`;
}

/**
 * A button's confirm object, as Slack shows it before sending the click: a
 * dialog with its title, text and two buttons. Kept in a template right after
 * the button; the page shows it on click and sends the action only on confirm.
 */
function confirmHtml(cf: Obj): string {
  const ok = s(cf.style) === 'danger' ? ' danger' : ' primary';
  return `<template class="confirm"><div class="modal confirm-dialog" role="alertdialog">`
    + `<div class="modal-title">${textObjectToHtml(cf.title)}</div>`
    + `<div class="modal-body"><div class="b-text">${textObjectToHtml(cf.text)}</div></div>`
    + `<div class="modal-foot"><button type="button" class="btn" data-confirm-deny>${cf.deny ? textObjectToHtml(cf.deny) : 'Cancel'}</button>`
    + `<button type="button" class="btn${ok}" data-confirm-ok>${cf.confirm ? textObjectToHtml(cf.confirm) : 'Yes'}</button></div></div></template>`;
}

/** An overflow menu as Slack lists it once opened: one small button per option, each sending its value. */
function overflow(el: Obj, blockId: string, c: Container): string {
  return `<span class="overflow" title="More actions">⋯ ${arr(el.options)
    .map((o) => `<button type="button" class="btn small" ${containerAttrs(c)} data-block="${escapeHtml(blockId)}" data-action="${escapeHtml(s(el.action_id))}" data-option="${escapeHtml(s(obj(o).value))}">${textObjectToHtml(obj(o).text)}</button>`)
    .join('')}</span>`;
}

function element(el: unknown, blockId: string, c: Container): string {
  const e = obj(el);
  switch (e.type) {
    case 'button':
      return button(e, blockId, c);
    case 'overflow':
      return overflow(e, blockId, c);
    case 'mrkdwn':
    case 'plain_text':
      return `<span>${textObjectToHtml(e)}</span>`;
    case 'image':
      return `<span class="img" title="${escapeHtml(s(e.alt_text))}">🖼</span>`;
    default:
      return `<span class="unsupported">[${escapeHtml(s(e.type) || 'element')}]</span>`;
  }
}

/** Whom a `users_select` offers in the sandbox: the people one can act as. */
export interface Person {
  id: string;
  label: string;
}

function input(b: Obj, blockId: string, errors: Record<string, string>, people: readonly Person[]): string {
  const el = obj(b.element);
  const label = `<label>${textObjectToHtml(b.label)}${b.optional === true ? ' <span class="optional">(optional)</span>' : ''}</label>`;
  const err = `<div class="field-error" data-error-for="${escapeHtml(blockId)}">${escapeHtml(errors[blockId] ?? '')}</div>`;
  if (el.type === 'users_select') {
    const options = [`<option value="">${escapeHtml(s(obj(el.placeholder).text) || 'Pick someone')}</option>`, ...people.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.label)}</option>`)];
    return `<div class="input">${label}<select data-block="${escapeHtml(blockId)}" data-action="${escapeHtml(s(el.action_id) || 'input')}" data-type="users_select">${options.join('')}</select>${err}</div>`;
  }
  if (el.type !== 'plain_text_input' && el.type !== 'number_input') return `<div class="input">${label}<span class="unsupported">[${escapeHtml(s(el.type))}]</span></div>`;
  const hint = b.hint ? `<div class="b-context">${textObjectToHtml(b.hint)}</div>` : '';
  const attrs = [
    `data-block="${escapeHtml(blockId)}"`,
    `data-action="${escapeHtml(s(el.action_id) || 'input')}"`,
    `placeholder="${escapeHtml(s(obj(el.placeholder).text))}"`,
    typeof el.max_length === 'number' ? `maxlength="${el.max_length}"` : '',
    b.optional === true ? '' : 'required',
  ].join(' ');
  // A number input is text the bot parses, as Slack sends it: only the keyboard differs.
  const kind = el.type === 'number_input' ? ' inputmode="decimal"' : '';
  const initial = escapeHtml(s(el.initial_value));
  const field = el.multiline === true ? `<textarea rows="4" ${attrs}>${initial}</textarea>` : `<input type="text" ${attrs}${kind} value="${initial}">`;
  return `<div class="input">${label}${field}${hint}${err}</div>`;
}

export function blockToHtml(block: unknown, index: number, c: Container, errors: Record<string, string> = {}, people: readonly Person[] = []): string {
  const b = obj(block);
  const blockId = blockIdOf(block, index);
  switch (b.type) {
    case 'header':
      return `<div class="b-header">${plainToHtml(s(obj(b.text).text))}</div>`;
    case 'section': {
      const text = b.text ? `<div class="b-text">${textObjectToHtml(b.text)}</div>` : '';
      const fields = arr(b.fields).length
        ? `<div class="b-fields">${arr(b.fields).map((f) => `<div>${textObjectToHtml(f)}</div>`).join('')}</div>`
        : '';
      const accessory = b.accessory ? `<div class="b-accessory">${element(b.accessory, blockId, c)}</div>` : '';
      return `<div class="b-section">${text}${fields}${accessory}</div>`;
    }
    case 'context':
      return `<div class="b-context">${arr(b.elements).map((e) => element(e, blockId, c)).join(' ')}</div>`;
    case 'divider':
      return '<hr class="b-divider">';
    case 'actions':
      return `<div class="b-actions">${arr(b.elements).map((e) => element(e, blockId, c)).join('')}</div>`;
    case 'input':
      return input(b, blockId, errors, people);
    case 'image':
      return `<div class="b-context">🖼 ${escapeHtml(s(b.alt_text))}</div>`;
    default:
      return `<div class="unsupported">[${escapeHtml(s(b.type) || 'block')} block]</div>`;
  }
}

export function blocksToHtml(blocks: unknown[], c: Container, errors?: Record<string, string>, people?: readonly Person[]): string {
  return blocks.map((b, i) => blockToHtml(b, i, c, errors, people)).join('');
}

/** A message: its blocks if it has any, else its text as mrkdwn. */
export function messageBodyHtml(m: { text?: string; blocks?: unknown[] }, c: Container): string {
  return m.blocks && m.blocks.length > 0 ? blocksToHtml(m.blocks, c) : `<div class="b-text">${mrkdwnToHtml(m.text ?? '')}</div>`;
}

/** A modal (or home view) as a form; the page posts its inputs back on submit. */
export function viewToHtml(view: Obj, errors: Record<string, string> = {}, people: readonly Person[] = []): string {
  const id = s(view.id);
  const c: Container = { kind: 'view', viewId: id };
  const body = blocksToHtml(arr(view.blocks), c, errors, people);
  if (view.type === 'home') return `<div class="home">${body}</div>`;
  const submit = view.submit ? `<button type="submit" class="btn primary">${textObjectToHtml(view.submit)}</button>` : '';
  const close = `<button type="button" class="btn" data-close="${escapeHtml(id)}">${view.close ? textObjectToHtml(view.close) : 'Close'}</button>`;
  return `<form class="modal" data-view="${escapeHtml(id)}"><div class="modal-title">${textObjectToHtml(view.title)}</div>`
    + `<div class="modal-body">${body}</div><div class="modal-foot">${close}${submit}</div></form>`;
}
