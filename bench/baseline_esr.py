#!/usr/bin/python3
"""Baseline for the decode benchmark: esrsync's DE-extract decoding, done in plain Python 3 (stdlib only).

    baseline_esr.py [--today YYYYMMDD] [--errors] FILE

Streams an ESR -> OH extract (docs/DOMAIN.md "ESR -> OH extract") line by line and does what
esrsync's decoder does with it: checks the HDR (interface ESR-OHS, version 1.0, VPD, FULL/DELTA,
sequence, timestamp) and the TRL count, checks each PER/ASG record's field count and every
DOMAIN.md validation rule (UTF-8, line and field size limits, 8-digit person number, assignment
number shape, NHS number Modulus 11, NI number rules, real calendar dates, date of birth neither in
the future nor more than 100 years ago, end date not before start date, action A/C/D and A only in
a FULL extract, gender M/F/X/U, Y/N flags, consent Y/N/blank), converts dates to ISO and builds one
canonical record (a dict keyed by the canonical field names) per valid record.

Prints `records=N errors=E`: N = PER and ASG records read, E = records rejected (a record with
several bad fields counts once; --errors lists every field error on stderr as ERR lines).
A file-level failure (bad HDR, TRL missing or with the wrong count, a record after TRL) is reported
on stderr and the exit status is 1, as the file would be REJECTED; 2 is a usage or I/O error.

It is meant as the fair baseline, written the way a competent Python programmer would: one pass, no
regex on the hot path, pre-computed lookup sets, a cache for the few thousand distinct dates.
"""

import argparse
import datetime
import sys

MAX_LINE_BYTES = 64 * 1024
MAX_FIELD_BYTES = 4 * 1024

PER_FIELDS = (
    "action", "person_number", "employee_number", "ni_number", "nhs_number", "title", "surname",
    "forenames", "previous_surname", "date_of_birth", "gender", "email", "mobile", "postcode",
    "transfer_consent",
)
ASG_FIELDS = (
    "action", "person_number", "assignment_number", "org_code", "position_title", "staff_group",
    "occupation_code", "department", "site", "start_date", "end_date", "lead_employer", "primary",
    "trainee", "grade", "epp",
)
PER_WIDTH = len(PER_FIELDS) + 1  # with the record type
ASG_WIDTH = len(ASG_FIELDS) + 1

ACTIONS = frozenset(("A", "C", "D"))
GENDERS = frozenset(("M", "F", "X", "U"))
FLAGS = frozenset(("Y", "N"))
CONSENT = {"Y": "Y", "N": "N", "": "unknown"}
DIGITS = frozenset("0123456789")
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _ni_prefixes():
    bad_first, bad_second = set("DFIQUV"), set("DFIQUVO")
    never = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    return frozenset(a + b for a in UPPER for b in UPPER
                     if a not in bad_first and b not in bad_second and a + b not in never)


NI_PREFIXES = _ni_prefixes()
NI_SUFFIXES = frozenset(("", "A", "B", "C", "D"))
DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_digits(s, n):
    """True when s is exactly n ASCII digits (str.isdigit would also accept e.g. '²' or '٣')."""
    return len(s) == n and s.isascii() and s.isdigit()


_date_cache = {}


def iso_date(s):
    """YYYYMMDD -> 'YYYY-MM-DD', '' when not a real calendar date (memoised: dates repeat a lot)."""
    r = _date_cache.get(s)
    if r is not None:
        return r
    r = ""
    if is_digits(s, 8):
        y, m, d = int(s[:4]), int(s[4:6]), int(s[6:])
        if y >= 1 and 1 <= m <= 12 and d >= 1:
            dim = 29 if m == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else DAYS_IN_MONTH[m]
            if d <= dim:
                r = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    if len(_date_cache) < 200_000:
        _date_cache[s] = r
    return r


def nhs_error(s):
    """None when s is a valid NHS number (spaces allowed), else the rule id."""
    if " " in s:
        s = s.replace(" ", "")
    if not is_digits(s, 10):
        return "nhs_number.format"
    b = s.encode("ascii")
    # weights 10..2 on the first nine digits; 48 * (10+9+...+2) = 48 * 54 removes the '0' offsets
    total = (10 * b[0] + 9 * b[1] + 8 * b[2] + 7 * b[3] + 6 * b[4] + 5 * b[5] + 4 * b[6]
             + 3 * b[7] + 2 * b[8] - 48 * 54)
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != b[9] - 48:
        return "nhs_number.check_digit"
    return None


def normalise_ni(s):
    """(normalised, None) or (None, rule id)."""
    if " " in s:
        s = s.replace(" ", "")
    s = s.upper()
    if len(s) not in (8, 9) or not s.isascii() or not s[:2].isalpha() or not s[2:8].isdigit():
        return None, "ni_number.format"
    prefix = s[:2]
    if prefix == "TN":
        return None, "ni_number.temporary"
    if prefix not in NI_PREFIXES:
        return None, "ni_number.prefix"
    if s[8:] not in NI_SUFFIXES:
        return None, "ni_number.suffix"
    return s, None


class Decoder:
    def __init__(self, today, report_errors):
        self.today = today.strftime("%Y%m%d")
        try:
            limit = today.replace(year=today.year - 100)
        except ValueError:  # 29 February in a common year
            limit = today.replace(year=today.year - 100, day=28)
        self.oldest_dob = limit.strftime("%Y%m%d")
        self.report_errors = report_errors
        self.records = 0
        self.rejected = 0
        self.header = None
        self.trailer_count = None
        self.file_errors = []
        self.last_record = None  # the canonical dict most recently built (kept so work is not elided)

    # -- reporting -------------------------------------------------------------------------------
    def _reject(self, lineno, rtype, key, errors):
        self.rejected += 1
        if self.report_errors:
            for field, code in errors:
                print(f"ERR|{lineno}|{rtype}|{key}|{code}|{field}", file=sys.stderr)

    def _file_error(self, lineno, message):
        self.file_errors.append(f"line {lineno}: {message}")

    # -- envelope --------------------------------------------------------------------------------
    def header_line(self, lineno, f):
        if len(f) != 7:
            return self._file_error(lineno, f"HDR has {len(f)} fields, expected 7")
        _, interface, version, vpd, kind, seq, created = f
        if interface != "ESR-OHS":
            return self._file_error(lineno, "HDR interface is not ESR-OHS")
        if version != "1.0":
            return self._file_error(lineno, "HDR version is not 1.0")
        if len(vpd) != 3 or not vpd.isascii() or not vpd.isalnum():
            return self._file_error(lineno, "HDR VPD is not 3 letters or digits")
        if kind not in ("FULL", "DELTA"):
            return self._file_error(lineno, "HDR extract type is not FULL or DELTA")
        if not seq or not seq.isascii() or not seq.isdigit():
            return self._file_error(lineno, "HDR sequence is not a number")
        if not is_digits(created, 14) or not iso_date(created[:8]) or \
                int(created[8:10]) > 23 or int(created[10:12]) > 59 or int(created[12:]) > 59:
            return self._file_error(lineno, "HDR timestamp is not YYYYMMDDHHMMSS")
        self.header = {"interface": interface, "version": version, "vpd": vpd, "extract_type": kind,
                       "seq": int(seq), "created": f"{iso_date(created[:8])}T{created[8:10]}:"
                                                  f"{created[10:12]}:{created[12:]}"}
        self.full = kind == "FULL"
        return None

    # -- records ---------------------------------------------------------------------------------
    def _action(self, action, errors):
        if action not in ACTIONS:
            errors.append(("action", "enum"))
        elif self.full and action != "A":
            errors.append(("action", "full_extract_action"))

    def person(self, lineno, f):
        errors = []
        (_, action, person_number, employee_number, ni, nhs, title, surname, forenames,
         previous_surname, dob, gender, email, mobile, postcode, consent) = f
        self._action(action, errors)
        if not is_digits(person_number, 8):
            errors.append(("person_number", "person_number.format"))
        if ni:
            ni, code = normalise_ni(ni)
            if code:
                errors.append(("ni_number", code))
        else:
            ni = None
        if nhs:
            code = nhs_error(nhs)
            if code:
                errors.append(("nhs_number", code))
            elif " " in nhs:
                nhs = nhs.replace(" ", "")
        else:
            nhs = None
        iso_dob = iso_date(dob)
        if not iso_dob:
            errors.append(("date_of_birth", "date.calendar" if is_digits(dob, 8) else "date.format"))
        elif dob > self.today:
            errors.append(("date_of_birth", "date_of_birth.future"))
        elif dob < self.oldest_dob:
            errors.append(("date_of_birth", "date_of_birth.too_old"))
        if gender not in GENDERS:
            errors.append(("gender", "enum"))
        canonical_consent = CONSENT.get(consent)
        if canonical_consent is None:
            errors.append(("transfer_consent", "enum"))
        if not surname:
            errors.append(("surname", "required"))
        if errors:
            return self._reject(lineno, "PER", person_number, errors)
        self.last_record = {
            "action": action, "person_number": person_number,
            "employee_number": employee_number or None, "ni_number": ni, "nhs_number": nhs,
            "title": title or None, "surname": surname, "forenames": forenames or None,
            "previous_surname": previous_surname or None, "date_of_birth": iso_dob,
            "gender": gender, "email": email or None, "mobile": mobile or None,
            "postcode": postcode or None, "transfer_consent": canonical_consent,
        }
        return None

    def assignment(self, lineno, f):
        errors = []
        (_, action, person_number, assignment_number, org_code, position_title, staff_group,
         occupation_code, department, site, start, end, lead_employer, primary, trainee, grade,
         epp) = f
        self._action(action, errors)
        if not is_digits(person_number, 8):
            errors.append(("person_number", "person_number.format"))
        # 8 digits, '-', 1..3 digits (e.g. 12345678-2)
        suffix = assignment_number[9:]
        if not (10 <= len(assignment_number) <= 12 and assignment_number[8] == "-"
                and is_digits(assignment_number[:8], 8) and suffix.isascii() and suffix.isdigit()):
            errors.append(("assignment_number", "assignment_number.format"))
        iso_start = iso_date(start)
        if not iso_start:
            errors.append(("start_date", "date.calendar" if is_digits(start, 8) else "date.format"))
        iso_end = None
        if end:
            iso_end = iso_date(end)
            if not iso_end:
                errors.append(("end_date", "date.calendar" if is_digits(end, 8) else "date.format"))
            elif iso_start and end < start:
                errors.append(("end_date", "date.order"))
        if not (lead_employer in FLAGS and primary in FLAGS and trainee in FLAGS and epp in FLAGS):
            for name, value in (("lead_employer", lead_employer), ("primary", primary),
                                ("trainee", trainee), ("epp", epp)):
                if value not in FLAGS:
                    errors.append((name, "flag"))
        if errors:
            return self._reject(lineno, "ASG", assignment_number, errors)
        self.last_record = {
            "action": action, "person_number": person_number,
            "assignment_number": assignment_number, "vpd": self.header["vpd"],
            "org_code": org_code or None, "position_title": position_title or None,
            "staff_group": staff_group or None, "occupation_code": occupation_code or None,
            "department": department or None, "site": site or None, "start_date": iso_start,
            "end_date": iso_end, "lead_employer": lead_employer, "primary": primary,
            "trainee": trainee, "grade": grade or None, "epp": epp,
        }
        return None

    # -- the file --------------------------------------------------------------------------------
    def run(self, stream):
        person, assignment = self.person, self.assignment
        lineno = 0
        for raw in stream:
            lineno += 1
            raw = raw.rstrip(b"\r\n")
            if len(raw) > MAX_LINE_BYTES:
                self.records += 1
                self._reject(lineno, raw[:3].decode("ascii", "replace"), "", [("line", "limit.line_length")])
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.records += 1
                self._reject(lineno, raw[:3].decode("ascii", "replace"), "", [("line", "encoding")])
                continue
            f = line.split("|")
            tag = f[0]
            if self.header is None:
                if tag != "HDR":
                    self._file_error(lineno, "the file does not start with HDR")
                    return
                self.header_line(lineno, f)
                if self.file_errors:
                    return
                continue
            if self.trailer_count is not None:
                self._file_error(lineno, "data after TRL")
                return
            if tag == "PER" or tag == "ASG":
                self.records += 1
                width = PER_WIDTH if tag == "PER" else ASG_WIDTH
                if len(f) != width:
                    self._reject(lineno, tag, f[2] if len(f) > 2 else "",
                                 [("record", f"field_count:{len(f)}!={width}")])
                    continue
                if len(raw) > MAX_FIELD_BYTES and any(len(x.encode()) > MAX_FIELD_BYTES for x in f):
                    self._reject(lineno, tag, f[2], [("field", "limit.field_length")])
                    continue
                if tag == "PER":
                    person(lineno, f)
                else:
                    assignment(lineno, f)
            elif tag == "TRL":
                if len(f) != 2 or not f[1].isascii() or not f[1].isdigit():
                    self._file_error(lineno, "TRL is not TRL|<count>")
                    return
                self.trailer_count = int(f[1])
                if self.trailer_count != self.records:
                    self._file_error(lineno, f"TRL count {self.trailer_count} != {self.records} records read")
                    return
            elif not line and lineno > 1:
                continue  # a blank line is tolerated
            else:
                self.records += 1
                self._reject(lineno, tag[:8], "", [("record", "unknown_record_type")])
        if self.header is None:
            self._file_error(lineno, "empty file (no HDR)")
        elif self.trailer_count is None:
            self._file_error(lineno, "no TRL (truncated file)")


def parse_today(text):
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYYMMDD: {text!r}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="DE extract to decode ('-' for stdin)")
    ap.add_argument("--today", type=parse_today, default=datetime.date.today(),
                    help="reference date for date-of-birth checks (default: today)")
    ap.add_argument("--errors", action="store_true", help="list record errors on stderr")
    args = ap.parse_args(argv)

    decoder = Decoder(args.today, args.errors)
    try:
        if args.file == "-":
            decoder.run(sys.stdin.buffer)
        else:
            with open(args.file, "rb", buffering=1 << 20) as stream:
                decoder.run(stream)
    except OSError as e:
        print(f"baseline_esr.py: {e}", file=sys.stderr)
        return 2
    print(f"records={decoder.records} errors={decoder.rejected}")
    if decoder.file_errors:
        for message in decoder.file_errors:
            print(f"file REJECTED: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
