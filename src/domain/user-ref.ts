/**
 * A person named in a command or a filter: a mention as Slack sends it in a
 * slash command's text (`<@U123|name>`, or `<@U123>`), or a user id typed in,
 * bare or after an @ (`U123`, `@U123`), which Slack passes on as typed.
 * W… ids are Enterprise Grid's. Undefined for anything else (a display name).
 */
export function parseUserRef(word: string | undefined): string | undefined {
  const m = /^(?:<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,}))$/.exec((word ?? '').trim());
  return m ? (m[1] ?? m[2]) : undefined;
}
