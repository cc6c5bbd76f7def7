/**
 * Slack mrkdwn → HTML, minimal and safe: every piece of text is HTML-escaped
 * before any tag is added, so nothing an agent wrote can become markup.
 * Handles `<@U…>`, `<#C…>`, `<!here>`, `<!date^…|fallback>`, `<url|label>`,
 * *bold*, _italic_, ~strike~, `code`, ```pre```, `>` quotes and common :emoji:.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Slack escapes only these three in message text. */
function decodeSlackEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * The shortcodes the bot writes (test/sandbox/render.test.ts finds them in src/ and fails on a
 * missing one), plus a few common ones; any other shortcode stays as typed.
 */
const EMOJI: Record<string, string> = {
  alarm_clock: '⏰', anchor: '⚓', arrow_down: '⬇️', arrow_forward: '▶️', arrow_right_hook: '↪️', arrow_up: '⬆️', arrows_counterclockwise: '🔄',
  ballot_box_with_check: '☑️', bell: '🔔', busts_in_silhouette: '👥', chart_with_upwards_trend: '📈', clipboard: '📋', eyes: '👀', fast_forward: '⏩',
  grey_question: '❔', heavy_check_mark: '✔️', hourglass: '⌛', hourglass_flowing_sand: '⏳', inbox_tray: '📥', information_source: 'ℹ️',
  large_orange_circle: '🟠', lock: '🔒', mag: '🔍', money_with_wings: '💸', moneybag: '💰', no_entry: '⛔', no_entry_sign: '🚫',
  octagonal_sign: '🛑', pager: '📟', pencil2: '✏️', pause_button: '⏸️', red_circle: '🔴', robot_face: '🤖', rotating_light: '🚨',
  warning: '⚠️', white_check_mark: '✅', x: '❌', zzz: '💤',
};

/** Inline formatting on already-escaped text: the markers are not touched by escaping. */
function inline(escaped: string): string {
  return escaped
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>')
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>')
    .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
}

/** One `<…>` token, rendered from its raw (still Slack-escaped) inside. */
function token(inner: string): string {
  const [target = '', label] = inner.split('|', 2) as [string, string | undefined];
  const text = (s: string) => escapeHtml(decodeSlackEntities(s));
  if (target.startsWith('@')) return `<span class="mention">@${text(label ?? target.slice(1))}</span>`;
  if (target.startsWith('#')) return `<span class="mention">#${text(label ?? target.slice(1))}</span>`;
  if (target.startsWith('!date^')) return `<time>${text(label ?? target)}</time>`;
  if (target.startsWith('!subteam^')) return `<span class="mention">@${text(label ?? target.slice(9))}</span>`;
  if (target.startsWith('!')) return `<span class="mention">@${text(label ?? target.slice(1))}</span>`;
  const href = decodeSlackEntities(target);
  if (/^(https?:|mailto:)/i.test(href)) {
    return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer nofollow">${text(label ?? target)}</a>`;
  }
  return text(`<${inner}>`);
}

/**
 * One line: `code` spans and `<…>` tokens are rendered on their own and held
 * out by placeholders (private-use characters, removed from the input first),
 * so *bold* can span them; the rest is decoded, escaped, then formatted.
 */
function line(raw: string): string {
  const held: string[] = [];
  const hold = (html: string) => `\uE000${held.push(html) - 1}\uE001`;
  const text = raw
    .replace(/[\uE000\uE001]/g, '')
    .replace(/`([^`\n]+)`/g, (_m, code: string) => hold(`<code>${escapeHtml(decodeSlackEntities(code))}</code>`))
    .replace(/<([^<>\n]+)>/g, (_m, inner: string) => hold(token(inner)));
  return inline(escapeHtml(decodeSlackEntities(text))).replace(/\uE000(\d+)\uE001/g, (_m, i: string) => held[Number(i)] ?? '');
}

export function mrkdwnToHtml(raw: string): string {
  const parts = raw.split(/```/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return `<pre>${escapeHtml(decodeSlackEntities(part.replace(/^\n/, '')))}</pre>`;
      const lines = part.split('\n');
      let html = '';
      lines.forEach((l, n) => {
        const quote = /^(>|&gt;)/.exec(l);
        const body = line(quote ? l.slice(quote[0].length) : l);
        html += quote ? `<blockquote>${body}</blockquote>` : body + (n < lines.length - 1 ? '<br>' : '');
      });
      return html;
    })
    .join('');
}

/** plain_text objects: escaped, emoji codes shown, newlines kept. */
export function plainToHtml(raw: string): string {
  return escapeHtml(raw)
    .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/\n/g, '<br>');
}

export function textObjectToHtml(t: unknown): string {
  if (typeof t !== 'object' || t === null) return '';
  const o = t as { type?: unknown; text?: unknown };
  const text = typeof o.text === 'string' ? o.text : '';
  return o.type === 'mrkdwn' ? mrkdwnToHtml(text) : plainToHtml(text);
}
