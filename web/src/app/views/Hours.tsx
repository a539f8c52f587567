// The weekly hours editor, used by a team's form and a website's routing form.
//
// The form keeps a draft of text fields (so a half-typed "9:3" is not lost), and turns it into
// WeeklyHours only on save, with a message naming the first thing that is wrong.
import type { WeeklyHours } from "../../generated/WeeklyHours";

export type Range = { from: string; to: string };
export type DayDraft = { open: boolean; ranges: Range[] };
export type HoursDraft = {
  /** false: always open (`hours: null`). */
  weekly: boolean;
  timezone: string;
  days: DayDraft[];
  holidays: string[];
};

const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MINUTES_PER_DAY = 1440;

/** Zones offered while typing; any IANA name is accepted. */
const COMMON_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Dublin",
  "Europe/Lisbon",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Madrid",
  "Europe/Rome",
  "Europe/Amsterdam",
  "Europe/Stockholm",
  "Europe/Warsaw",
  "Europe/Athens",
  "Europe/Helsinki",
  "Europe/Istanbul",
  "Europe/Moscow",
  "Africa/Lagos",
  "Africa/Johannesburg",
  "Asia/Dubai",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Pacific/Auckland",
  "America/Sao_Paulo",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Mexico_City",
  "America/Toronto",
];

export function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (_) {
    return "UTC";
  }
}

export function clock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0");
}

/** "09:00" → 540; "24:00" → 1440; anything else → null. */
export function parseClock(s: string): number | null {
  const m = /^\s*(\d{1,2})[:.](\d{2})\s*$/.exec(s);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

/** The editor's draft for `h`; a closed timetable starts as weekdays 09:00–17:00. */
export function hoursDraft(h: WeeklyHours | null): HoursDraft {
  if (!h) {
    return {
      weekly: false,
      timezone: localZone(),
      days: DAY_NAMES.map((_, i) => ({ open: i < 5, ranges: [{ from: "09:00", to: "17:00" }] })),
      holidays: [],
    };
  }
  return {
    weekly: true,
    timezone: h.timezone,
    days: DAY_NAMES.map((_, i) => {
      const list = h.days[i] ?? [];
      return list.length
        ? { open: true, ranges: list.map(([a, b]) => ({ from: clock(a), to: clock(b) })) }
        : { open: false, ranges: [{ from: "09:00", to: "17:00" }] };
    }),
    holidays: h.holidays.slice(),
  };
}

function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch (_) {
    return false;
  }
}

export type HoursResult = { ok: true; hours: WeeklyHours | null } | { ok: false; error: string };

/** The WeeklyHours a draft stands for, or what to fix first. */
export function hoursFromDraft(d: HoursDraft): HoursResult {
  if (!d.weekly) return { ok: true, hours: null };
  const timezone = d.timezone.trim();
  if (!timezone) return { ok: false, error: "Choose a time zone." };
  if (!knownZone(timezone)) return { ok: false, error: "“" + timezone + "” is not a time zone (e.g. Europe/Berlin)." };
  const days: Array<Array<[number, number]>> = [];
  for (let i = 0; i < 7; i++) {
    const day = d.days[i];
    const name = DAY_NAMES[i] ?? "";
    if (!day || !day.open) {
      days.push([]);
      continue;
    }
    const list: Array<[number, number]> = [];
    for (const r of day.ranges) {
      const from = parseClock(r.from);
      const to = parseClock(r.to);
      if (from === null || from >= MINUTES_PER_DAY) return { ok: false, error: name + ": “" + r.from + "” is not a time (HH:MM)." };
      if (to === null) return { ok: false, error: name + ": “" + r.to + "” is not a time (HH:MM, or 24:00)." };
      if (to <= from) return { ok: false, error: name + ": " + r.from + "–" + r.to + " ends before it starts (past midnight, use 24:00 and go on the next day)." };
      list.push([from, to]);
    }
    list.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < list.length; k++) {
      const prev = list[k - 1];
      const cur = list[k];
      if (prev && cur && cur[0] < prev[1]) return { ok: false, error: name + ": the hours overlap." };
    }
    days.push(list);
  }
  const holidays = Array.from(new Set(d.holidays.filter((h) => h !== ""))).sort();
  return { ok: true, hours: { timezone, days, holidays } };
}

/** A one-line summary for lists: "Mon–Thu 09:00–17:00, Fri 09:00–16:00 · Europe/Berlin". */
export function hoursSummary(h: WeeklyHours | null): string {
  if (!h) return "Always open";
  const text = DAY_NAMES.map((_, i) => (h.days[i] ?? []).map(([a, b]) => clock(a) + "–" + clock(b)).join(", "));
  const short = (i: number) => (DAY_NAMES[i] ?? "").slice(0, 3);
  // Runs of neighbouring days with the same hours.
  const runs: Array<{ from: number; to: number; text: string }> = [];
  text.forEach((t, i) => {
    const last = runs[runs.length - 1];
    if (!t) return;
    if (last && last.to === i - 1 && last.text === t) last.to = i;
    else runs.push({ from: i, to: i, text: t });
  });
  if (runs.length === 0) return "Closed every day · " + h.timezone;
  const days = runs.length === 1 && runs[0]?.from === 0 && runs[0]?.to === 6 ? ["Every day " + runs[0].text] : null;
  const parts = days ?? runs.map((r) => (r.from === r.to ? short(r.from) : short(r.from) + "–" + short(r.to)) + " " + r.text);
  return (parts.length > 3 ? "Custom hours" : parts.join(", ")) + " · " + h.timezone;
}

type Props = {
  draft: HoursDraft;
  onChange: (d: HoursDraft) => void;
  /** Unique per form: ids of the inputs start with it. */
  idPrefix: string;
  legend: string;
  /** The words for "always open" in this place ("Always open", "Open when the website is"). */
  alwaysLabel?: string;
  /** One line under the legend: what the hours mean here. */
  help?: string;
  disabled?: boolean;
};

export function HoursEditor({ draft, onChange, idPrefix, legend, alwaysLabel = "Always open", help, disabled = false }: Props) {
  const setDay = (i: number, day: DayDraft) => onChange({ ...draft, days: draft.days.map((d, k) => (k === i ? day : d)) });
  const setRange = (i: number, j: number, r: Range) => {
    const day = draft.days[i];
    if (day) setDay(i, { ...day, ranges: day.ranges.map((x, k) => (k === j ? r : x)) });
  };
  const zones = idPrefix + "-zones";
  return (
    <fieldset class="hours" disabled={disabled} data-testid={idPrefix + "-hours"}>
      <legend>{legend}</legend>
      {help && <p class="muted small hours-help">{help}</p>}
      <div class="seg" role="radiogroup" aria-label={legend}>
        <label>
          <input
            type="radio"
            name={idPrefix + "-mode"}
            checked={!draft.weekly}
            onChange={() => onChange({ ...draft, weekly: false })}
            data-testid={idPrefix + "-always"}
          />
          <span>{alwaysLabel}</span>
        </label>
        <label>
          <input
            type="radio"
            name={idPrefix + "-mode"}
            checked={draft.weekly}
            onChange={() => onChange({ ...draft, weekly: true })}
            data-testid={idPrefix + "-weekly"}
          />
          <span>Set weekly hours</span>
        </label>
      </div>
      {draft.weekly && (
        <div class="hours-body">
          <label class="hours-zone">
            <span>Time zone</span>
            <input
              list={zones}
              value={draft.timezone}
              autocomplete="off"
              spellcheck={false}
              placeholder="Europe/Berlin"
              onInput={(e) => onChange({ ...draft, timezone: e.currentTarget.value })}
              data-testid={idPrefix + "-timezone"}
            />
            <datalist id={zones}>
              {Array.from(new Set([localZone(), ...COMMON_ZONES])).map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
          <ul class="hours-days">
            {draft.days.map((day, i) => {
              const name = DAY_NAMES[i] ?? "";
              return (
                <li key={i} class="hours-day" data-testid={idPrefix + "-day-" + i}>
                  <label class="hours-dayname">
                    <input type="checkbox" checked={day.open} onChange={(e) => setDay(i, { ...day, open: e.currentTarget.checked })} />
                    <span>{name}</span>
                  </label>
                  {day.open ? (
                    <div class="hours-ranges">
                      {day.ranges.map((r, j) => (
                        <span class="hours-range" key={j}>
                          <input
                            class="time"
                            inputMode="numeric"
                            maxLength={5}
                            placeholder="09:00"
                            aria-label={name + ", opens at (HH:MM)"}
                            aria-invalid={parseClock(r.from) === null || parseClock(r.from) === MINUTES_PER_DAY}
                            value={r.from}
                            onInput={(e) => setRange(i, j, { ...r, from: e.currentTarget.value })}
                          />
                          <span aria-hidden="true">–</span>
                          <input
                            class="time"
                            inputMode="numeric"
                            maxLength={5}
                            placeholder="17:00"
                            aria-label={name + ", closes at (HH:MM, 24:00 for midnight)"}
                            aria-invalid={parseClock(r.to) === null}
                            value={r.to}
                            onInput={(e) => setRange(i, j, { ...r, to: e.currentTarget.value })}
                          />
                          {day.ranges.length > 1 && (
                            <button
                              type="button"
                              class="icon-btn"
                              aria-label={"Remove " + name + " " + r.from + "–" + r.to}
                              title="Remove"
                              onClick={() => setDay(i, { ...day, ranges: day.ranges.filter((_, k) => k !== j) })}
                            >
                              ×
                            </button>
                          )}
                        </span>
                      ))}
                      <button
                        type="button"
                        class="icon-btn add"
                        aria-label={"Add hours on " + name}
                        title="Add hours"
                        onClick={() => {
                          const last = day.ranges[day.ranges.length - 1];
                          const end = last ? parseClock(last.to) : null;
                          const from = end !== null && end < 1380 ? clock(end + 60) : "18:00";
                          const to = end !== null && end < 1380 ? clock(Math.min(MINUTES_PER_DAY, end + 180)) : "20:00";
                          setDay(i, { ...day, ranges: day.ranges.concat({ from, to }) });
                        }}
                      >
                        +
                      </button>
                    </div>
                  ) : (
                    <span class="muted small">Closed</span>
                  )}
                </li>
              );
            })}
          </ul>
          <div class="hours-holidays">
            <span class="hours-label" id={idPrefix + "-holidays-label"}>
              Closed on
            </span>
            <div class="hours-dates" role="group" aria-labelledby={idPrefix + "-holidays-label"}>
              {draft.holidays.map((h, k) => (
                <span class="hours-date" key={k}>
                  <input
                    type="date"
                    aria-label={"Holiday " + (k + 1)}
                    value={h}
                    onInput={(e) => onChange({ ...draft, holidays: draft.holidays.map((x, n) => (n === k ? e.currentTarget.value : x)) })}
                  />
                  <button
                    type="button"
                    class="icon-btn"
                    aria-label={"Remove holiday " + (h || k + 1)}
                    title="Remove"
                    onClick={() => onChange({ ...draft, holidays: draft.holidays.filter((_, n) => n !== k) })}
                  >
                    ×
                  </button>
                </span>
              ))}
              <button
                type="button"
                class="link-btn small"
                onClick={() => onChange({ ...draft, holidays: draft.holidays.concat("") })}
                data-testid={idPrefix + "-add-holiday"}
              >
                Add a holiday
              </button>
            </div>
          </div>
        </div>
      )}
    </fieldset>
  );
}
