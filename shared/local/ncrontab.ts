/**
 * NCRONTAB schedules as the Azure Functions timer trigger reads them: six fields,
 * `second minute hour day month day-of-week`, evaluated here in UTC.
 *
 * Day-of-month and day-of-week combine as NCrontab (the library behind the timer trigger) combines
 * them: a day must match both. `0 0 0 13 * FRI` fires on Friday the 13th only, unlike Vixie cron,
 * which would fire on every 13th and every Friday (NCrontab's CrontabSchedule.TryGetNextOccurrence
 * finds the next day of the month, then requires its weekday).
 */

/** A parsed schedule. */
export interface CronSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`, to the second. */
  next(after: Date): Date;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Three-letter names for the values from `min` on, matched case-insensitively. */
  names?: string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The Gregorian calendar repeats every 400 years, so a schedule with no occurrence in that span has none at all (`0 0 0 30 FEB *`). */
const SEARCH_YEARS = 400;

/** A field's text is wrong; parseSchedule adds the schedule and the field's name. */
class FieldError extends Error {}

function parseValue(text: string, spec: FieldSpec): number {
  const nameIndex = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = nameIndex >= 0 ? spec.min + nameIndex : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= spec.min && value <= spec.max)) {
    const named = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
    throw new FieldError(`"${text}" is not a value from ${spec.min} to ${spec.max}${named}`);
  }
  return value;
}

function parseStep(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new FieldError(`the step "${text}" is not a whole number of at least 1`);
  return Number(text);
}

/** One comma-separated part: `*`, `a`, `a-b`, each optionally `/step` (`a/step` runs to the field's maximum, as in NCrontab). */
function parsePart(part: string, spec: FieldSpec): number[] {
  const [range = '', stepText, ...extraSlashes] = part.split('/');
  if (extraSlashes.length > 0) throw new FieldError(`"${part}" has more than one "/"`);
  const step = stepText === undefined ? 1 : parseStep(stepText);
  let first = spec.min;
  let last = spec.max;
  if (range !== '*') {
    const [from = '', to, ...extraDashes] = range.split('-');
    if (extraDashes.length > 0) throw new FieldError(`"${range}" is not a range a-b`);
    first = parseValue(from, spec);
    last = to !== undefined ? parseValue(to, spec) : stepText !== undefined ? spec.max : first;
    if (first > last) throw new FieldError(`the range "${range}" runs backwards`);
  }
  const values: number[] = [];
  for (let value = first; value <= last; value += step) values.push(value);
  return values;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  return new Set(text.split(',').flatMap((part) => parsePart(part, spec)));
}

/** Parses a six-field NCRONTAB schedule; throws an Error naming the schedule and the field at fault. */
export function parseSchedule(expression: string): CronSchedule {
  const texts = expression
    .trim()
    .split(/\s+/)
    .filter((text) => text !== '');
  if (texts.length !== FIELDS.length) {
    throw new Error(
      `NCRONTAB schedule "${expression}" has ${texts.length} fields; it needs 6: second minute hour day-of-month month day-of-week`,
    );
  }
  const [seconds, minutes, hours, days, months, weekdays] = FIELDS.map((spec, index) => {
    const text = texts[index] as string;
    try {
      return parseField(text, spec);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      throw new Error(`NCRONTAB schedule "${expression}": the ${spec.name} field "${text}" is invalid: ${error.message}`, { cause: error });
    }
  }) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];

  const dayMatches = (time: Date) => days.has(time.getUTCDate()) && weekdays.has(time.getUTCDay());

  return {
    expression,
    next(after: Date): Date {
      const time = new Date((Math.floor(after.getTime() / 1000) + 1) * 1000);
      const limit = Date.UTC(time.getUTCFullYear() + SEARCH_YEARS, 0, 1);
      // Each miss jumps to the start of the next month, day, hour, minute or second, so even a
      // yearly schedule is found in a few dozen steps.
      while (time.getTime() < limit) {
        if (!months.has(time.getUTCMonth() + 1)) {
          time.setUTCMonth(time.getUTCMonth() + 1, 1);
          time.setUTCHours(0, 0, 0, 0);
        } else if (!dayMatches(time)) {
          time.setUTCDate(time.getUTCDate() + 1);
          time.setUTCHours(0, 0, 0, 0);
        } else if (!hours.has(time.getUTCHours())) {
          time.setUTCHours(time.getUTCHours() + 1, 0, 0, 0);
        } else if (!minutes.has(time.getUTCMinutes())) {
          time.setUTCMinutes(time.getUTCMinutes() + 1, 0, 0);
        } else if (!seconds.has(time.getUTCSeconds())) {
          time.setUTCSeconds(time.getUTCSeconds() + 1, 0);
        } else {
          return time;
        }
      }
      throw new Error(`NCRONTAB schedule "${expression}" has no occurrence after ${after.toISOString()}`);
    },
  };
}
