"""Cron next-run times compared with an independent implementation.

Thousands of random expressions in time zones with and without DST, from
start times chosen to cross DST changes, are evaluated by backspan's
schedule library (tests/tools/schedule_next) and by a reference built from
python3-croniter and Python's zoneinfo:

- croniter, on naive wall-clock times, says which wall-clock minutes an
  expression matches (fields, names, steps, the day-of-month/day-of-week
  rule);
- zoneinfo says what each of those minutes is in the zone: one instant, a
  time skipped by a DST change, or a time that happens twice; the cron
  rules of docs/agent.md then say which instants run.

Where no DST change is near, croniter's own zone-aware answer must agree
too. croniter's zone-aware answers across DST changes are not used: they
differ from cron's rules (and from each other between croniter versions).
"""
import datetime
import os
import random
import subprocess
import sys
import unittest

try:
    from croniter import croniter
except ImportError:  # Debian's python3-croniter, under another Python 3
    sys.path.append("/usr/lib/python3/dist-packages")
    from croniter import croniter
import zoneinfo

TOOL = os.environ.get("BACKSPAN_SCHEDULE_NEXT",
                      os.path.join(os.path.dirname(__file__), "../../build/tests/schedule_next"))
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
         "America/Havana", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham", "Europe/London",
         "America/Sao_Paulo", "Asia/Tehran", "Pacific/Apia"]
COUNT = 8
CASES = int(os.environ.get("BACKSPAN_CRON_CASES", "3000"))
UTC = datetime.timezone.utc


def random_field(rng, lo, hi, names=None, restricted=False):
    """A random field; `restricted` fields never start with '*' and never
    cover every value (croniter and cron disagree on what counts as '*'
    for the day-of-month/day-of-week rule)."""
    def item():
        kind = rng.random()
        a = rng.randint(lo, hi)
        b = rng.randint(a, hi)
        if kind < 0.35:
            return names[a - lo] if names and rng.random() < 0.3 else str(a)
        if kind < 0.65:
            return f"{a}-{b}"
        if kind < 0.85 and not restricted:
            return f"*/{rng.randint(1, max(1, (hi - lo) // 2))}"
        return f"{a}-{b}/{rng.randint(1, max(1, hi - lo))}"
    if not restricted and rng.random() < 0.3:
        return "*"
    while True:
        field = ",".join(item() for _ in range(rng.choice([1, 1, 1, 2, 3])))
        if not restricted:
            return field
        values = set()
        for part in field.split(","):
            rng_part, _, step = part.partition("/")
            if "-" in rng_part:
                a, b = (int(x) for x in rng_part.split("-"))
            else:
                a = b = int(rng_part) if rng_part.isdigit() else names.index(rng_part) + lo
            values.update(range(a, b + 1, int(step or 1)))
        if len(values) < hi - lo + 1:
            return field


def random_expression(rng):
    minute = random_field(rng, 0, 59)
    hour = random_field(rng, 0, 23)
    month = random_field(rng, 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                      "oct", "nov", "dec"])
    dom = "*" if rng.random() < 0.6 else random_field(rng, 1, 28, restricted=True)
    dow = "*" if rng.random() < 0.6 else random_field(rng, 0, 6, ["sun", "mon", "tue", "wed", "thu",
                                                                  "fri", "sat"], restricted=True)
    return f"{minute} {hour} {dom} {month} {dow}"


def dst_changes(zone, year):
    """The instants in `year` at which `zone`'s UTC offset changes."""
    out = []
    t = datetime.datetime(year, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    step = datetime.timedelta(hours=1)
    while t.year == year:
        t += step
        off = t.astimezone(zone).utcoffset()
        if off != prev:
            out.append(t)
            prev = off
    return out


def wall_clock_mapping(zone, naive):
    """('unique', t) | ('skipped', gap_end) | ('repeated', t1, t2), in unix seconds."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:  # no such wall-clock time: find where the gap ends
        t = int(first.timestamp())
        lo, hi = t - 4 * 3600, t + 4 * 3600
        gap_end = min(x for x in range(lo, hi, 60)
                      if datetime.datetime.fromtimestamp(x, zone).replace(tzinfo=None) > naive)
        # the gap ends on a whole minute in every zone tested
        return ("skipped", gap_end - (gap_end % 60) if gap_end % 60 else gap_end)
    if first.utcoffset() != second.utcoffset():
        return ("repeated", int(first.timestamp()), int(second.timestamp()))
    return ("unique", int(first.timestamp()))


def fixed_time(expr):
    minute, hour = expr.split()[:2]
    return not minute.startswith("*") and not hour.startswith("*")


def reference(expr, zone_name, after, count):
    zone = zoneinfo.ZoneInfo(zone_name)
    wall = datetime.datetime.fromtimestamp(after, zone).replace(tzinfo=None, second=0)
    it = croniter(expr, wall - datetime.timedelta(hours=3, minutes=1))
    fixed = fixed_time(expr)
    found = []
    while True:
        naive = it.get_next(datetime.datetime)
        if len(found) >= count and naive > found_wall_limit:
            break
        m = wall_clock_mapping(zone, naive)
        candidates = []
        if m[0] == "unique":
            candidates = [m[1]]
        elif m[0] == "skipped":
            candidates = [m[1]] if fixed else []
        else:
            candidates = [m[1]] if fixed else [m[1], m[2]]
        found.extend(c for c in candidates if c > after)
        found = sorted(set(found))
        if len(found) >= count:
            found_wall_limit = datetime.datetime.fromtimestamp(found[count - 1], zone).replace(
                tzinfo=None) + datetime.timedelta(hours=3)
    return found[:count]


class CronOracleTest(unittest.TestCase):
    def test_against_croniter(self):
        rng = random.Random(int(os.environ.get("BACKSPAN_CRON_SEED", "20261207")))
        cases = []
        changes = {}
        for _ in range(CASES):
            expr = random_expression(rng)
            zone_name = rng.choice(ZONES)
            zone = zoneinfo.ZoneInfo(zone_name)
            year = rng.randint(2021, 2034)
            key = (zone_name, year)
            if key not in changes:
                changes[key] = dst_changes(zone, year)
            if changes[key] and rng.random() < 0.7:  # just before a DST change
                start = rng.choice(changes[key]) - datetime.timedelta(minutes=rng.randint(0, 36 * 60))
            else:
                start = datetime.datetime(year, 1, 1, tzinfo=UTC) + datetime.timedelta(
                    seconds=rng.randint(0, 365 * 86400))
            cases.append((expr, zone_name, int(start.timestamp())))
        all_changes = {z: [int(c.timestamp()) for (zz, _), cs in changes.items() if zz == z for c in cs]
                       for z in ZONES}
        stdin = "".join(f"{e}\t{z}\t{a}\t{COUNT}\n" for e, z, a in cases)
        out = subprocess.run([TOOL], input=stdin, capture_output=True, text=True, check=True).stdout.splitlines()
        self.assertEqual(len(out), len(cases))
        crossed = aware_checked = 0
        for (expr, zone_name, after), line in zip(cases, out):
            with self.subTest(expr=expr, zone=zone_name, after=after):
                self.assertFalse(line.startswith("error"), line)
                ours = [int(x) for x in line.split()]
                want = reference(expr, zone_name, after, COUNT)
                self.assertEqual(ours, want)
                zone = zoneinfo.ZoneInfo(zone_name)
                offsets = {datetime.datetime.fromtimestamp(t, zone).utcoffset()
                           for t in range(after - 4 * 3600, ours[-1] + 4 * 3600, 1800)} if ours[-1] - after < 40 * 86400 else None
                if offsets is not None and len(offsets) == 1:
                    it = croniter(expr, datetime.datetime.fromtimestamp(after, zone))
                    aware = [int(it.get_next(datetime.datetime).timestamp()) for _ in range(COUNT)]
                    self.assertEqual(ours, aware)
                    aware_checked += 1
                if any(after < c <= ours[-1] for c in all_changes[zone_name]):
                    crossed += 1
        print(f"{len(cases)} expressions: {crossed} crossed a DST change, "
              f"{aware_checked} also matched croniter's zone-aware answer", file=sys.stderr)
        self.assertGreater(crossed, len(cases) // 6)


if __name__ == "__main__":
    unittest.main()
