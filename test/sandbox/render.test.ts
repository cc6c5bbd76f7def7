import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blocksToHtml, viewToHtml } from '../../src/sandbox/blocks.js';
import { escapeHtml, mrkdwnToHtml, plainToHtml } from '../../src/sandbox/mrkdwn.js';
import { escapeMrkdwn } from '../../src/domain/slack-text.js';
import { inertPlain } from '../../src/slack/cards/escalation-card.js';

const msg = { kind: 'message', channel: 'C1', ts: '1.000001' } as const;

describe('sandbox mrkdwn', () => {
  it('renders Slack tokens and formatting', () => {
    expect(mrkdwnToHtml('*Approved* by <@U0APPROVER1> at <!date^1700000000^{time}|2023-11-14 22:13 UTC>')).toBe(
      '<b>Approved</b> by <span class="mention">@U0APPROVER1</span> at <time>2023-11-14 22:13 UTC</time>',
    );
    expect(mrkdwnToHtml(':octagonal_sign: *Agent `procurement-agent` is paused*')).toBe('🛑 <b>Agent <code>procurement-agent</code> is paused</b>');
    expect(mrkdwnToHtml('_note_ ~old~\n>quoted')).toBe('<i>note</i> <s>old</s><br><blockquote>quoted</blockquote>');
    expect(mrkdwnToHtml('<https://example.com/a?b=1&amp;c=2|docs>')).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">docs</a>',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|x>')).toBe('&lt;javascript:alert(1)|x&gt;');
  });

  it('shows every emoji shortcode the bot writes as its emoji, and leaves an unknown one as typed', () => {
    const src = new URL('../../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('sandbox'));
    // A shortcode in a string: after a quote, backtick or space, and before a space, backtick, quote or *.
    const codes = new Set(files.flatMap((f) => [...readFileSync(new URL(f, src), 'utf8').matchAll(/(?<=[`'" ]):[a-z0-9_+]+:(?=[ `'"*])/g)].map((m) => m[0])));
    expect(codes).toContain(':pager:');
    expect(codes).toContain(':busts_in_silhouette:');
    expect([...codes].filter((c) => mrkdwnToHtml(c) === c)).toEqual([]);
    expect(mrkdwnToHtml(':pager: On call')).toBe('📟 On call');
    expect(mrkdwnToHtml(':not_an_emoji: at 10:30:00')).toBe(':not_an_emoji: at 10:30:00');
  });

  it('shows escaped agent text as the same characters, never as markup', () => {
    const agent = '<script>alert(1)</script> <img src=x onerror=alert(2)> <!channel> <@U123> <https://evil|bank> "q" \'a\' &amp;';
    const html = mrkdwnToHtml(escapeMrkdwn(agent));
    expect(html).not.toMatch(/<(script|img|a|span)\b/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(plainToHtml(inertPlain(agent, 500))).not.toMatch(/<(script|img)\b/);
  });

  it('never lets arbitrary input open a tag other than its own', () => {
    const allowed = /^(b|i|s|code|pre|br|blockquote|time|span|a)$/;
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '&', '*', '_', '`', '"', "'", '|', '@', '!', 'a', ' ', '\n', ':', 'j', 's') }), (s) => {
        for (const m of mrkdwnToHtml(s).matchAll(/<\/?([a-z]+)/g)) expect(m[1]).toMatch(allowed);
        for (const m of mrkdwnToHtml(s).matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^(https?:|mailto:)/i);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sandbox Block Kit', () => {
  it('renders header, fields, context, divider and buttons that name their block and action', () => {
    const html = blocksToHtml(
      [
        { type: 'header', text: { type: 'plain_text', text: 'Refund <b>$340</b>' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Agent*\nSupport' }] },
        { type: 'divider' },
        { type: 'actions', block_id: 'countersign:1', elements: [{ type: 'button', action_id: 'countersign.approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: 'v' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Route `refunds`' }] },
      ],
      msg,
    );
    expect(html).toContain('<div class="b-header">Refund &lt;b&gt;$340&lt;/b&gt;</div>');
    expect(html).toContain('<b>Agent</b><br>Support');
    expect(html).toContain('data-block="countersign:1" data-action="countersign.approve"');
    expect(html).toContain('<hr class="b-divider">');
  });

  it('renders a modal with its inputs and the errors the bot returned', () => {
    const html = viewToHtml(
      {
        id: 'V1', type: 'modal', title: { type: 'plain_text', text: 'Deny request' }, submit: { type: 'plain_text', text: 'Deny' },
        blocks: [{ type: 'input', block_id: 'reason', label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: 'reason_input', multiline: true, placeholder: { type: 'plain_text', text: '"x"' } } }],
      },
      { reason: 'Give a <reason>' },
    );
    expect(html).toContain('<textarea rows="4" data-block="reason" data-action="reason_input" placeholder="&quot;x&quot;"');
    expect(html).toContain('Give a &lt;reason&gt;');
    expect(escapeHtml('"\'<>&')).toBe('&quot;&#39;&lt;&gt;&amp;');
  });
});

describe('sandbox confirm dialogs', () => {
  const button = (confirm: object) => blocksToHtml([{ type: 'actions', block_id: 'a', elements: [{ type: 'button', action_id: 'countersign.approve', text: { type: 'plain_text', text: 'Approve' }, value: 'v', confirm }] }], msg);

  it('keeps a button’s confirm as a dialog template right after it, which the page shows before sending the click', () => {
    const html = button({ title: { type: 'plain_text', text: 'Approve $340.00?' }, text: { type: 'mrkdwn', text: 'It *cannot be undone*.' }, confirm: { type: 'plain_text', text: 'Approve' }, deny: { type: 'plain_text', text: 'Cancel' }, style: 'danger' });
    expect(html).toContain('data-confirm="1">Approve</button><template class="confirm">');
    expect(html).toContain('<div class="modal-title">Approve $340.00?</div>');
    expect(html).toContain('It <b>cannot be undone</b>.');
    expect(html).toContain('<button type="button" class="btn" data-confirm-deny>Cancel</button><button type="button" class="btn danger" data-confirm-ok>Approve</button>');
  });

  it('renders the dialog’s text as text', () => {
    const html = button({ title: { type: 'plain_text', text: '<img src=x onerror=alert(1)>' }, text: { type: 'mrkdwn', text: escapeMrkdwn('<script>alert(2)</script>') }, confirm: { type: 'plain_text', text: '<b>ok' } });
    expect(html).not.toMatch(/<(script|img)\b/);
    expect(html).toContain('&lt;b&gt;ok');
  });
});

describe('sandbox hand-offs', () => {
  it('lists an overflow menu’s options as buttons that send the option picked', async () => {
    const { handoffMenu } = await import('../../src/slack/cards/handoff.js');
    const { blockActionsPayload } = await import('../../src/sandbox/interactions.js');
    const id = '0b6c2c39-8d0f-4b8e-9b0a-3f4f3c2e1a10';
    const menu = handoffMenu(id, 'a'.repeat(64));
    const html = blocksToHtml([{ type: 'actions', block_id: 'acts', elements: [menu] }], msg);
    expect(html).toContain(`data-action="countersign.handoff" data-option="snooze:${id}:${'a'.repeat(64)}">Snooze 30 min</button>`);
    expect(html).toContain('>Reassign…</button>');
    const payload = blockActionsPayload({ user: 'U1', triggerId: 't', element: menu as never, blockId: 'acts', option: menu.options![1]!.value, message: { channel: 'C1', value: { ts: '1.1' } } });
    expect((payload.actions as unknown[])[0]).toMatchObject({ type: 'overflow', action_id: 'countersign.handoff', selected_option: { value: `reassign:${id}:${'a'.repeat(64)}` } });
  });

  it('offers the people one can act as in a user select, and submits the one picked as selected_user', async () => {
    const { viewSubmissionPayload } = await import('../../src/sandbox/interactions.js');
    const view = { id: 'V1', type: 'modal', title: { type: 'plain_text', text: 'Reassign' }, blocks: [{ type: 'input', block_id: 'assignee', label: { type: 'plain_text', text: 'Approver' }, element: { type: 'users_select', action_id: 'assignee_input' } }] };
    const html = viewToHtml(view, {}, [{ id: 'U0APPROVER2', label: 'Second approver' }]);
    expect(html).toContain('<select data-block="assignee" data-action="assignee_input" data-type="users_select">');
    expect(html).toContain('<option value="U0APPROVER2">Second approver</option>');
    const payload = viewSubmissionPayload('U1', 't', view, { assignee: { assignee_input: 'U0APPROVER2' } });
    expect((payload.view as { state: unknown }).state).toEqual({ values: { assignee: { assignee_input: { type: 'users_select', selected_user: 'U0APPROVER2' } } } });
  });
});
