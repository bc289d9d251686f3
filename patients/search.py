"""What a search box query means, and the denormalised text patients are searched by.

`parse_query` turns one box's text into the things it may be: an NHS number (any spacing), a
phone number, a date of birth (03/02/1980, 3 Feb 1980, 1980-02-03), a postcode or district,
and name words. `patients.selectors.patient_search` turns that into SQL.

Names are searched through two columns kept on `Patient` (see `Patient.refresh_search_columns`):
- `search_name`: lower-case, accent-free name words with a space at each end (" john smith "),
  used to rank results by trigram similarity;
- `search_text`: the same words, then each word's fuzzy keys marked with "_": its consonant
  skeleton ("smyth", "smiht" and "smith" are all "smt"; "steven" and "stephen" are "stfn") and
  its letters in order ("cutris" has the letters of "curtis": "cirstu"). One trigram-indexed
  pattern per query word then matches a name word by prefix (" smi") or a key exactly
  ("_smt "), so a misspelt name ("Jonh Smiht", "Jennfier Cutris") still finds the patient.

The broad skeleton key is used for query words that look complete: any word but the last of
three letters or more, and the last word from five letters (the last word may be half-typed:
"jone" means Jones, not every name whose skeleton is "jn"). The precise letters key is used for
every word of four letters or more.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError

from patients.validators import OUTWARD_CODE, PHONE_REGION, normalise_nhs_number, normalise_postcode

MAX_QUERY_LENGTH = 200
# Shorter words are too common for a fuzzy match to mean anything ("jo" is only a prefix).
FUZZY_MIN_LENGTH = 3
# The last word is matched fuzzily only from this length: shorter, it is probably half-typed.
FUZZY_LAST_WORD_MIN_LENGTH = 5
SKELETON_MIN_LENGTH = 2
# In shorter words a swapped pair of letters is as likely a different name (Ian, Ina).
LETTERS_KEY_MIN_LENGTH = 4
# Fewer digits than this match too many phone numbers to be useful.
PHONE_PARTIAL_MIN_DIGITS = 4

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
ISO_DATE = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
UK_NUMERIC_DATE = re.compile(r"(?<![0-9])([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})(?![0-9])")
UK_TEXT_DATE = re.compile(
    r"(?<![0-9])([0-9]{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+([0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
NUMERIC_QUERY = re.compile(r"\+?[0-9]+")
FULL_POSTCODE_IN_TEXT = re.compile(r"\b([a-z]{1,2}[0-9][a-z0-9]?)\s*([0-9][a-z]{2})\b", re.IGNORECASE)

# Spellings that sound alike, folded before vowels are dropped ("stephen" and "steven" → "stfn").
SKELETON_FOLDS = (("ph", "f"), ("ck", "k"), ("v", "f"), ("c", "k"), ("q", "k"), ("z", "s"))
SKELETON_SILENT = set("aeiouyhw")


def name_words(*parts: str) -> list[str]:
    """Lower-case words without accents or apostrophes: "Zoë O'Brien-Smith" → zoe, obrien, smith."""
    text = unicodedata.normalize("NFKD", " ".join(part for part in parts if part))
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    text = text.replace("'", "").replace("\u2019", "")
    words: list[str] = []
    for word in re.findall(r"[^\W_]+", text):
        if word not in words:
            words.append(word)
    return words


def consonant_skeleton(word: str) -> str:
    """First letter, then the consonants without repeats: "smith", "smyth", "smiht" → "smt"."""
    folded = word.lower()
    for spelling, sound in SKELETON_FOLDS:
        folded = folded.replace(spelling, sound)
    if not folded.isalpha() or not folded.isascii():
        return ""
    skeleton = folded[0]
    for char in folded[1:]:
        if char not in SKELETON_SILENT and char != skeleton[-1]:
            skeleton += char
    return skeleton


def search_name_text(given_name: str, family_name: str, preferred_name: str) -> str:
    words = name_words(given_name, family_name, preferred_name)
    return f" {' '.join(words)} " if words else ""


def letters_key(word: str) -> str:
    """The word's letters in alphabetical order: the same for any transposition of them."""
    return "".join(sorted(word))


def fuzzy_keys(word: str, *, skeleton: bool = True) -> list[str]:
    keys = [consonant_skeleton(word)] if skeleton else []
    # A one-letter skeleton ("zoe" → "s") would match every name of that sound.
    keys = [key for key in keys if len(key) >= SKELETON_MIN_LENGTH]
    if len(word) >= LETTERS_KEY_MIN_LENGTH:
        keys.append(letters_key(word))
    return [key for key in keys if key]


def search_text_for(given_name: str, family_name: str, preferred_name: str) -> str:
    words = name_words(given_name, family_name, preferred_name)
    keys: list[str] = []
    for word in words:
        for key in fuzzy_keys(word):
            if f"_{key}" not in keys:
                keys.append(f"_{key}")
    return f" {' '.join(words + keys)} " if words else ""


@dataclass(frozen=True)
class NameWord:
    word: str
    keys: tuple[str, ...] = ()  # sound-alike and same-letters keys; () for a half-typed word


@dataclass(frozen=True)
class PatientQuery:
    """One search box's text, read every way it can be read."""

    text: str
    nhs_number: str = ""  # 10 digits: matched exactly (valid check digit or not)
    phone: str = ""  # E.164, when the text is a complete phone number
    phone_digits: str = ""  # digits to find inside stored phone numbers
    date_of_birth: date | None = None
    postcode: str = ""  # a full postcode, normalised
    postcode_district: str = ""  # an outward code such as "BA1"
    names: tuple[NameWord, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.text

    @property
    def is_numeric(self) -> bool:
        return bool(self.nhs_number or self.phone or self.phone_digits)

    @property
    def name_text(self) -> str:
        return " ".join(name.word for name in self.names)


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _two_digit_year(year: int, today: date) -> int:
    # "03/02/80" is 1980; "03/02/15" is 2015 (no one searches for a future birth date).
    full = 2000 + year
    return full if full <= today.year else 1900 + year


def extract_date(text: str, *, today: date | None = None) -> tuple[date | None, str]:
    """The first UK-style date in the text, and the text without it."""
    today = today or date.today()
    for pattern in (ISO_DATE, UK_NUMERIC_DATE, UK_TEXT_DATE):
        for match in pattern.finditer(text):
            first, second, third = match.groups()
            if pattern is ISO_DATE:
                found = _valid_date(int(first), int(second), int(third))
            elif pattern is UK_NUMERIC_DATE:
                year = int(third) if len(third) == 4 else _two_digit_year(int(third), today)
                found = _valid_date(year, int(second), int(first))
            else:
                month = MONTHS.get(second.lower())
                found = _valid_date(int(third), month, int(first)) if month else None
            if found is not None:
                return found, (text[: match.start()] + " " + text[match.end() :]).strip()
    return None, text


def parse_uk_date(text: str, *, today: date | None = None) -> date | None:
    """A whole value that is a date: 03/02/1980, 3/2/80, 3 Feb 1980, 1980-02-03 (UK order)."""
    value = " ".join((text or "").split())
    if not value:
        return None
    found, rest = extract_date(value, today=today)
    return found if found is not None and not rest else None


def _numeric_query(text: str, compact: str) -> PatientQuery:
    digits = compact.lstrip("+")
    nhs_number = digits if len(digits) == 10 and not compact.startswith("+") else ""
    try:
        valid_nhs_number = bool(nhs_number) and normalise_nhs_number(nhs_number) == nhs_number
    except ValidationError:
        valid_nhs_number = False
    phone = ""
    try:
        number = phonenumbers.parse(compact, PHONE_REGION)
        if phonenumbers.is_valid_number(number):
            phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    # Stored numbers are E.164, so a national "0" prefix is not in them.
    partial = digits[1:] if digits.startswith("0") else digits
    # A valid NHS number is looked up exactly (and as a whole phone number), not inside phones.
    phone_digits = partial if len(partial) >= PHONE_PARTIAL_MIN_DIGITS and not valid_nhs_number else ""
    return PatientQuery(text=text, nhs_number=nhs_number, phone=phone, phone_digits=phone_digits)


def parse_query(raw: str, *, today: date | None = None) -> PatientQuery:
    text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
    if not text:
        return PatientQuery(text="")

    compact = re.sub(r"[\s\-().]", "", text)
    if NUMERIC_QUERY.fullmatch(compact) and not UK_NUMERIC_DATE.fullmatch(text) and not ISO_DATE.fullmatch(text):
        return _numeric_query(text, compact)

    date_of_birth, rest = extract_date(text, today=today)

    postcode = ""
    match = FULL_POSTCODE_IN_TEXT.search(rest)
    if match:
        try:
            postcode = normalise_postcode(match.group(1) + match.group(2))
        except ValidationError:
            postcode = ""
        if postcode:
            rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()

    postcode_district = ""
    remaining_words = []
    for token in rest.split():
        if not postcode and not postcode_district and OUTWARD_CODE.fullmatch(token.upper()):
            postcode_district = token.upper()
        else:
            remaining_words.append(token)

    words = name_words(*remaining_words)
    names = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        # A half-typed last word still gets its letters key: it is precise, so cheap to match.
        skeleton = len(word) >= (FUZZY_LAST_WORD_MIN_LENGTH if last else FUZZY_MIN_LENGTH)
        names.append(NameWord(word=word, keys=tuple(fuzzy_keys(word, skeleton=skeleton))))
    return PatientQuery(
        text=text,
        date_of_birth=date_of_birth,
        postcode=postcode,
        postcode_district=postcode_district,
        names=tuple(names),
    )
