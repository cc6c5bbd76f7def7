import type { InputBlock, KnownBlock, ModalView } from '@slack/types';
import { EDIT_TEXT_MAX, type EditableField } from '../../domain/edit.js';
import { decimal, usd } from '../../domain/format.js';
import { PRIVATE_METADATA_MAX, plainText, safeCode } from '../../domain/slack-text.js';
import { capView } from './limits.js';
import { VIEW_EDIT_APPROVE } from './view-model.js';

/** Each editable param is one input block, `edit:<name>`, with this action id. */
const BLOCK_PREFIX = 'edit:';
const VALUE_ACTION = 'value';
export const editBlockId = (name: string) => `${BLOCK_PREFIX}${name}`;

export interface EditMetadata {
  id: string;
  digest: string;
  channel: string;
}

/**
 * Edit and approve…: one input per editable param, pre-filled with the
 * requested value (as the card shows it, PII masked), a number input for a
 * number and plain text for a string. Bound by its metadata to the escalation
 * and the digest of the card it was opened from.
 */
export function editModal(meta: EditMetadata, actionType: string, fields: readonly EditableField[], spendParam: string | undefined): ModalView {
  const privateMetadata = JSON.stringify(meta);
  if (privateMetadata.length > PRIVATE_METADATA_MAX) throw new Error('edit modal metadata too long');
  const inputs = fields.map((f): InputBlock => {
    const requested = f.kind === 'number' ? (f.name === spendParam ? usd(f.value as number) : decimal(f.value as number)) : 'the text below';
    return {
      type: 'input',
      block_id: editBlockId(f.name),
      label: { type: 'plain_text', text: plainText(f.name, 200) },
      hint: { type: 'plain_text', text: plainText(`Requested: ${requested}`, 200) },
      element:
        f.kind === 'number'
          ? { type: 'number_input', action_id: VALUE_ACTION, is_decimal_allowed: true, initial_value: String(f.value), ...((f.value as number) >= 0 ? { min_value: '0' } : {}) }
          : {
              type: 'plain_text_input',
              action_id: VALUE_ACTION,
              multiline: f.multiline,
              max_length: EDIT_TEXT_MAX,
              ...(f.value === '' ? {} : { initial_value: f.value as string }),
            },
      // An emptied text field is refused with a reason, rather than Slack's bare "required".
      optional: f.kind === 'text',
    };
  });
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `You are approving ${safeCode(actionType, 102)} with your changes. The agent runs it with the values you approve, and is told what you changed. The edited request must pass the same policy and need nothing more than the request did.`,
      },
    },
    ...inputs,
  ];
  return capView({
    type: 'modal',
    callback_id: VIEW_EDIT_APPROVE,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Edit and approve' },
    submit: { type: 'plain_text', text: 'Approve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  });
}

export function parseEditMetadata(raw: string | undefined): EditMetadata | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<EditMetadata>;
    if (typeof v.id === 'string' && typeof v.digest === 'string' && typeof v.channel === 'string') return { id: v.id, digest: v.digest, channel: v.channel };
  } catch {
    // fall through: metadata we did not write
  }
  return undefined;
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

/** The submitted values per param name, from every `edit:<name>` block (whether or not the modal had it: the flow decides). */
export function submittedEdits(values: StateValues): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [block, actions] of Object.entries(values)) {
    if (!block.startsWith(BLOCK_PREFIX)) continue;
    const name = block.slice(BLOCK_PREFIX.length);
    if (name === '__proto__') continue;
    out[name] = actions[VALUE_ACTION]?.value ?? null;
  }
  return out;
}

/** Errors per param name, keyed as Slack wants them: by the input's block id. */
export function editErrors(errors: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).map(([name, message]) => [editBlockId(name), message]));
}
