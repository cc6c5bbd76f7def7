import { describe, expect, it } from 'vitest';
import { choosePagee, type Availability } from '../../src/domain/paging.js';

const av = (entries: Array<[string, Availability]>) => new Map(entries);
const active: Availability = { presence: 'active', dnd: false };
const away: Availability = { presence: 'away', dnd: false };
const dnd: Availability = { presence: 'active', dnd: true };

describe('choosing whom to page', () => {
  it('pages the primary when available', () => {
    expect(choosePagee(['U1', 'U2'], av([['U1', active], ['U2', active]]), { critical: false })).toMatchObject({ user: 'U1', fallback: false });
  });

  it.each([
    ['away', away],
    ['in Do Not Disturb', dnd],
  ])('skips a primary who is %s and pages the secondary, recording why', (why, a) => {
    const d = choosePagee(['U1', 'U2'], av([['U1', a], ['U2', active]]), { critical: false });
    expect(d.user).toBe('U2');
    expect(d.considered[0]).toMatchObject({ user: 'U1', paged: false, why });
  });

  it('falls back to the channel and user group when nobody is available', () => {
    expect(choosePagee(['U1', 'U2'], av([['U1', away], ['U2', dnd]]), { critical: false })).toMatchObject({ user: undefined, fallback: true });
  });

  it('pages the primary anyway for a critical escalation when nobody is available', () => {
    const d = choosePagee(['U1', 'U2'], av([['U1', away], ['U2', dnd]]), { critical: true });
    expect(d.user).toBe('U1');
    expect(d.considered[0]!.why).toContain('paged anyway');
  });

  it('treats unknown presence as available, and considers each person once', () => {
    const d = choosePagee(['U1', 'U1', 'U2'], av([]), { critical: false });
    expect(d).toMatchObject({ user: 'U1' });
    expect(d.considered).toHaveLength(1);
  });

  it('falls back when nobody is scheduled', () => {
    expect(choosePagee([], av([]), { critical: true })).toMatchObject({ user: undefined, fallback: true });
  });
});
