"""Who a sentence is about: the local and state agencies and governments it names, each
resolved to one canonical agency with its state.

A mention is found by its shape and checked against the gazetteer (stance.gazetteer):
"<County> County Sheriff's Office", "<City> police", "the county board", "Sheriff Gonzalez",
"Nashville's jail", "Texas lawmakers", "HB 1549". Mentions that lean on the article resolve to
the agency of that kind named earlier in the same paragraph, else to the article's own agency of
that kind (of its state, named most often), else to the one its place implies ("the sheriff" of
an article that names only a county is that county's sheriff, and so is its unnamed jail):

- by kind: "the sheriff", "deputies", "the department", "the office", "police" and "city
  officers" in a story about one force, "the county", "the council", "council members", "the
  mayor", "Town Hall", "the governor", "the Legislature", "lawmakers", "the Senate" (in a story
  about a state legislature), "the jail", "the Gadsden jail" (the jail the article names),
  "the Department of Correction" (the local one the article is about);
- through people: a surname a title introduced ("Sheriff Ed Gonzalez", "Sen. Tommy Williams,
  R-The Woodlands", "Council Speaker Melissa Mark-Viverito") stands for that agency, and "he" or
  "she" for the official the sentences before were about, unless someone else was named between;
- through acts: "the bill", "the new laws", "the ordinance" are the government the paragraph
  (else the article) speaks of; "the agreement" and "the policy" the agency whose they are.

The article's state (its dateline, a state the caller knows, or the state it names most) decides
which state's "Lee County" or "Salem" is meant. A place is not an actor ("in Harris County",
"Tucson is widely seen as", "Florida sheriffs", "the town's residents"), and federal agencies
(ICE, DHS, the Border Patrol, "U.S. Rep.") are not tracked.

Canonical names (data/README.md, agency_mentions.csv): "<County> County Sheriff's Office"
(Parish in Louisiana; the Clark County sheriff heads the Las Vegas Metropolitan Police
Department), "<City> Police Department" ("<County> County Police Department" for a county
force), jails and corrections by their own name ("Etowah County Detention Center", "Florida
Department of Corrections"), county government "<County> County" ("Athens-Clarke County" for a
consolidated one), city government "<City>", state government the state's name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache

from stance import gazetteer

KINDS = ("sheriff", "police", "jail", "county", "city", "state")


@dataclass(frozen=True, order=True)
class Agency:
    """One tracked agency or government: canonical name, state (postal code) and kind."""

    name: str
    state: str
    kind: str


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    agency: Agency
    explicit: bool  # named outright, as opposed to leaning on the article
    county: str = ""  # the county it belongs to, when known (for "the county" and "the sheriff")
    city: str = ""
    generic: bool = False  # a jail by description ("the Gadsden jail"), not by its own name


# A capitalised word; an apostrophe-s ends it ("Nashville's") except in "Prince George's County".
_CAP = r"(?:[A-Z](?:[\w.\-]|['’](?!s\b))*(?:['’]s(?=\s+(?:County|Parish)))?)"
_NAME = rf"{_CAP}(?:[ \t]+(?:(?:de|du|la|del|los|las)[ \t]+)?{_CAP})*"
_POSS = r"['’]s"
_LOCATION = re.compile(r"\b(?:in|across|throughout|outside|near|from|to|into|at|around|within|of|through|toward|"
                       r"towards|between|via|north|south|east|west|neighboring|nearby)\s*$", re.I)
# A federal agency named between a local one and "the department" / "the agency" may be the one meant.
_FEDERAL_DEPARTMENT = re.compile(r"Department of (?:Homeland Security|Justice|State|Labor|Defense)|U\.S\. Department|"
                                 r"federal department|Justice Department|Homeland Security|\bICE\b|\bDHS\b|"
                                 r"Immigration and Customs Enforcement|Border Patrol|\bFBI\b|Marshals")

_SHERIFF_TAIL = r"Sheriff['’]?s\s+(?:Office|Department|Dept\.?)|sheriff['’]s\s+(?:office|department)|Sheriff['’]s|" \
                r"sheriff['’]s|Sheriff|sheriff|deputies|Deputies"
_JAIL_TAIL = r"(?:Adult\s+)?(?:Jail|jail|Detention\s+(?:Center|Facility)|detention\s+(?:center|facility)|" \
             r"Correctional\s+(?:Facility|Center|Institution)|Corrections\s+(?:Center|Department)|" \
             r"(?:Department|Division)\s+of\s+Corrections?|Criminal\s+Justice\s+Authority|Justice\s+Center|lockup)"
_POLICE_TAIL = r"Police\s+(?:Department|Dept\.?)|police\s+department|Police|police"
_COUNTY_TAIL = r"Board\s+of\s+(?:County\s+)?(?:Supervisors|Commissioners)|Commissioners\s+Court|Commission(?:ers)?|" \
               r"commission(?:ers)?|Council|council|Executive|executive|Legislature|legislators|Board|board|" \
               r"supervisors|Supervisors|government|officials|leaders|Judge|[Aa]dministrator|[Mm]anager|" \
               r"Attorney|attorney|Mayor|mayor"
_COUNTY = re.compile(
    rf"(?P<name>{_NAME})\s+(?P<unit>County|Parish|Borough)\b(?P<poss>{_POSS})?"
    rf"(?:\s+(?P<tail>{_SHERIFF_TAIL}|{_JAIL_TAIL}|{_POLICE_TAIL}|{_COUNTY_TAIL})\b)?"
)
_BOARD_OF_COUNTY = re.compile(rf"(?P<name>{_NAME})\s+(?P<tail>Board\s+of\s+County\s+(?:Supervisors|Commissioners)|"
                              r"(?:county\s+)?(?:supervisors|commissioners|board))\b")
_CITY_SHERIFF = re.compile(rf"(?P<name>{_NAME})\s+Sheriff(?:['’]s)?\s+(?:Office|Department)\b")
_CITY_POLICE = re.compile(rf"(?P<name>{_NAME})(?P<poss>{_POSS})?\s+(?:Metropolitan\s+|Metro\s+)?"
                          r"(?:Police\s+(?:Department|Dept\.?)|police\s+department|Police|police|PD)\b")
_CITY_JAIL = re.compile(rf"(?P<name>{_NAME})(?P<poss>{_POSS})?\s+(?P<tail>City\s+Jail|jail|Jail)\b")
_REGIONAL_JAIL = re.compile(rf"(?P<name>{_CAP}(?:[ \t]+{_CAP})*?)[ \t]+(?P<tail>(?:Regional|District)[ \t]+(?:Adult[ \t]+)?"
                            r"(?:Jail|Detention[ \t]+Center|Correctional[ \t]+Facility)(?:[ \t]+Authority)?)\b")
_CITY_GOVERNMENT = re.compile(
    rf"(?P<name>{_NAME})(?P<poss>{_POSS})?\s+(?:City\s+Council|city\s+council|Metro\s+Council|Common\s+Council|"
    r"Board\s+of\s+Aldermen|City\s+Commission|city\s+commission|Council|council|City\s+Hall|city\s+officials|"
    r"officials|leaders|Mayor|mayor|city\s+government|government|aldermen|council\s+members|City\s+Attorney|"
    r"city\s+attorney|administration)\b"
)
# What a city does when it is the subject of a sentence: "Boston will not...", "Austin passed...".
# "Is" and "has" only with what a government is or does ("Nashville has adopted", "Boston is a
# sanctuary city"), not with what a place is ("Tucson is widely seen as", "Sumner has fewer than
# 100 residents").
_CITY_VERBS = (r"will|would|voted|votes|passed|adopted|declared|joined|ended|refused|refuses|declined|declines|agreed|"
               r"signed|stopped|limits|limited|bars|barred|does|did|cannot|can|could|must|should|sued|approved|"
               r"rejected|officially|already|now|never|still|continues|plans|cooperates|honors|complies|opposes|"
               r"opposed|requires|required")
_CITY_STATE = (rf"(?:has|had|have|is|was|remains|remained|became|becomes|also)\s+(?:not\s+|no\s+longer\s+|never\s+|"
               rf"already\s+|long\s+|officially\s+|now\s+)?(?:{_CITY_VERBS}|\w+ed\b|an?\s+(?:[\w\-]+\s+)?"
               rf"(?:sanctuary|city|jurisdiction)|cooperat|comply|complying|honoring|refusing|declining|participat)")
# A list of governments doing something: "Santa Fe, Albuquerque and Rio Arriba County adopted",
# "Illinois, Chicago and Cook County sanctuary laws".
_GOVERNMENT_LIST = re.compile(
    rf"(?P<list>{_NAME}(?:,\s+{_NAME})*,?\s+(?:and|or)\s+{_NAME})\s+"
    rf"(?=(?:{_CITY_VERBS})\b|(?:have|has|had)\s+\w+ed\b|(?:[a-z\-]+\s+)?(?:laws|policies|ordinances|officials|leaders|"
    rf"governments)\b)")
_TITLED = re.compile(r"\b(?:Sen|Rep|Gov|Mr|Ms|Mrs|Dr|Sheriff|Chief|Mayor|Councilman|Councilwoman|Judge)\.?\s+$")
_CITY_OF = re.compile(rf"\b[Cc]ity\s+of\s+(?P<name>{_NAME})")
_POSSESSIVE = re.compile(rf"(?P<name>{_NAME}){_POSS}\s+(?=[a-z])")
# Police forces better known by their initials than by their city.
_ACRONYMS = {"NYPD": ("New York City", "NY"), "LAPD": ("Los Angeles", "CA"), "NOPD": ("New Orleans", "LA"),
             "SFPD": ("San Francisco", "CA"), "LVMPD": ("Las Vegas", "NV")}
_ACRONYM = re.compile(r"\b(?:" + "|".join(_ACRONYMS) + r")\b")
# A sheriff who heads a metropolitan police department has no separate office: the Clark County
# sheriff is the Las Vegas Metropolitan Police Department's.
_SHERIFF_LED = {("Clark County", "NV"): ("Las Vegas", "Las Vegas Metropolitan Police Department")}
_METRO_POLICE = {(city, code): name for (_, code), (city, name) in _SHERIFF_LED.items()}

_NAME_AHEAD = r"\s+(?:[A-Z][\w.'’\-]*\s+){0,3}[A-Z][\w'’\-]*"
_TITLES = {
    "sheriff": r"Sheriff(?:-elect)?|Undersheriff",
    "police": r"Police\s+Chief|Chief\s+of\s+Police|Police\s+Commissioner|Chief",
    "state": r"Gov\.|Governor|Lt\.\s+Gov\.|Lieutenant\s+Governor|Attorney\s+General|state\s+Sen\.|state\s+Rep\.|"
             r"state\s+Senator|state\s+Representative|Assemblyman|Assemblywoman|Assemblymember|Delegate|"
             r"Senate\s+President|Senate\s+(?:Majority\s+|Minority\s+)?Leader|"
             r"House\s+(?:Majority\s+|Minority\s+)?Leader|"
             r"(?:House|Assembly)\s+Speaker|Speaker\s+of\s+the\s+(?:House|Assembly)",
    # "Sen. Tommy Williams, R-The Woodlands", "Rep. Jay Reedy (R-Erin)", "Sen. Charlie Janssen of
    # Fremont": a legislator named by hometown sits in the state's legislature (one named by state,
    # "Sen. Ted Cruz, R-Texas", or "U.S. Sen." sits in Congress).
    "legislator": rf"(?:Sen|Rep)\.(?=(?:{_NAME_AHEAD})(?:,\s*|\s+\()[RDI]-[A-Z]|{_NAME_AHEAD}\s+of\s+[A-Z])",
    "city": r"Mayor(?:-elect)?|Deputy\s+Mayor|Vice\s+Mayor|Councilman|Councilwoman|Council\s+[Mm]embers?|"
            r"Councilmembers?|Council\s+Speaker|Council\s+President|At-large\s+(?:[Cc]ouncil\s+)?[Mm]ember|"
            r"Alderman|Alderwoman|City\s+Solicitor|City\s+Attorney|City\s+Manager",
    "county": r"County\s+Executive|County\s+Judge|County\s+Commissioner|County\s+Manager|Supervisor|Commissioner",
    "board": r"[Bb]oard\s+(?:[Mm]ember|[Cc]hairman|[Cc]hairwoman|[Cc]hair)",
}
_TITLE_KIND = {"legislator": "state", "board": "county"}  # the kind of agency a title's holder speaks for
_PERSON = (r"(?P<person>(?:(?:[A-Z][a-z]+(?:[A-Z][a-z]+)?|[A-Z]\.)\s+){0,3}"
           r"(?:(?:de|De|van|Van|von|del|Del|La|le|Le)\s+)?"
           r"(?P<surname>(?!(?:Jr|Sr)\b)[A-Z][a-z](?:[\w\-]|['’](?!s\b))*))")
# "U.S. Rep.", "U.S. Attorney General": federal officials are not tracked.
_TITLE = re.compile(r"(?<!U\.S\.\s)\b(?:" + "|".join(f"(?P<{kind}>{t})" for kind, t in _TITLES.items()) +
                    rf")\s+{_PERSON}")
_HOMETOWN = re.compile(r"(?:,\s*|\s+\()[RDI]-(?P<tagged>[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*)*)|"
                       r"\s+of\s+(?P<of>[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*)*)")
# Words that are a government's, never a surname to bind ("Sen. Brenda Council of Omaha").
_NOT_SURNAMES = {"Council", "House", "Senate", "Assembly", "Hall", "Board", "Court", "County", "City", "State"}

# Mentions that lean on the article, with the kind they refer to ("department": police or sheriff).
_ANAPHORA = [
    ("sheriff", r"\b(?:[Tt]he|[Ii]ts|[Tt]heir|[Cc]ounty|[Ll]ocal)\s+(?:county\s+)?sheriff(?:['’]s)?"
                r"(?:\s+(?:office|department|deputies))?\b|\b[Tt]he\s+Sheriff['’]s\s+(?:Office|Department)\b|"
                r"\bSheriff['’]s\s+Office\b|\bsheriff['’]s\s+(?:office|deputies)\b|"
                r"^Sheriff\b(?!['’]|\s+[A-Z])"),  # a headline's "Sheriff says ..."
    # (In the plural only someone's: "its jails", not "county jails" in general.)
    ("jail", r"\b(?:[Tt]he|[Tt]hat|[Ii]ts|[Tt]heir|[Cc]ounty|[Tt]he\s+county['’]s|[Tt]he\s+city['’]s|[Tt]he\s+sheriff['’]s)"
             r"\s+(?:county\s+)?(?:jail|detention\s+center|lockup)\b|"
             r"\b(?:[Ii]ts|[Tt]heir|[Tt]he\s+county['’]s|[Tt]he\s+sheriff['’]s)\s+(?:jails|detention\s+centers)\b"),
    ("police", r"\b(?:[Tt]he|[Cc]ity|[Ii]ts|[Tt]heir|[Tt]he\s+city['’]s)\s+police\s+(?:department|chief|force)\b|"
               r"\b[Tt]he\s+Police\s+Department\b|\b(?:[Tt]he\s+)?[Pp]olice\s+[Cc]hief\b|"
               r"\b(?:[Cc]ity|[Tt]own|[Tt]he\s+(?:city|town)['’]s)\s+(?:police|officers)\b|"
               r"\bMetropolitan\s+Police\s+Department\b"),
    ("state police", r"\b[Ss]tate\s+(?:police|troopers)\b"),
    # Plain "police" and "deputies" in a story about one police department or sheriff's office.
    ("local police", r"(?<![Ss]tate\s)(?<![Ll]ocal\s)(?<!federal\s)(?<!Border\s)(?<!campus\s)(?<!tribal\s)"
                     r"(?<!transit\s)(?<!county\s)(?<!County\s)(?<![-’'])\b(?:[Tt]he\s+)?police\b"
                     r"(?!\s+(?:chiefs?|unions?|departments?|associations?|academy|[Cc]hief|Department|officers['’]|"
                     r"forces|agencies))"),
    ("deputies", r"(?<!federal\s)(?<!U\.S\.\s)(?<![Ll]ocal\s)(?<![-’'])\b[Dd]eputies\b"),
    ("department", r"\b[Tt]he\s+(?:department|Department)\b(?!\s+of)|\b[Tt]he\s+agency\b|\b[Tt]he\s+office\b(?!\s+of)"),
    # A department of corrections by no one's name: the local one the article is about.
    ("corrections", r"\b[Tt]he\s+(?P<own>Department\s+of\s+Corrections?)\b(?!,?\s+[A-Z])|"
                    r"\b(?:[Cc]ity|[Tt]he\s+city['’]s)\s+jails\b"),
    ("county police", r"\b[Cc]ounty\s+police\b"),
    # A board or its members, when the article has named a county government for them to be.
    ("board", r"\b[Tt]he\s+(?:board|Commissioners\s+Court|commission)\b|\b[Ss]upervisors\b|\b[Cc]ommissioners\b"),
    ("county", r"\b[Tt]he\s+county\b(?!\s+(?:jail|sheriff|line|seat))|"
               r"\b[Cc]ounty\s+(?:officials|commissioners|supervisors|leaders|board|government|executive|"
               r"administrator|attorney|council|commission|legislators|lawmakers|manager)\b|"
               r"\b[Tt]he\s+(?:Board\s+of\s+(?:County\s+)?(?:Supervisors|Commissioners)|"
               r"board\s+of\s+(?:county\s+)?(?:supervisors|commissioners)|County\s+Commission|County\s+Board|"
               r"County\s+Council|commissioners|supervisors)\b"),
    ("city", r"\b[Tt]he\s+city\b(?!['’]s\s+police)|\b[Cc]ity\s+(?:officials|leaders|council|government|hall|"
             r"attorney|administrator|manager|commission|lawmakers)\b|\bCity\s+(?:Council|Hall|Commission)\b|"
             r"\b[Tt]he\s+mayor\b|\bMetro\s+(?:Council|government)\b|\b[Tt]he\s+[Cc]ouncil\b|"
             r"\b[Tt]he\s+[Mm]ayor['’]s\s+[Oo]ffice\b|\b[Cc]ity\s+[Aa]ttorney['’]s\s+[Oo]ffice\b|"
             r"\b[Tt]he\s+town\b(?!['’]s\s+police)|"
             r"\b[Tt]own\s+(?:officials|leaders|council|government|hall|attorneys?|"
             r"administrator|manager|board)\b|\bTown\s+(?:Council|Hall|Board)\b|"
             r"\b[Cc]ouncil\s?(?:members?|women|men)\b|\bcouncilmembers?\b"),
    ("district", r"\b[Tt]he\s+District\b(?!\s+(?:of|Court|Attorney|Judge))"),
    ("state", r"\b[Tt]he\s+state\b(?!\s+(?:line|of\s+the|level))|\b[Ss]tate\s+(?:officials|lawmakers|legislators|"
              r"leaders|government|agencies|legislature)\b|\b[Tt]he\s+(?:Legislature|legislature|General\s+Assembly|"
              r"governor|Governor)\b|\b[Gg]overnor['’]s\s+office\b"),
    # A chamber, its members and its session, in a story about a state legislature.
    ("legislature", r"\b(?:[Tt]he|[Aa])\s+(?:state\s+)?(?:Senate|House|Assembly)\b"
                    r"(?!\s+(?:[Bb]ill|candidate|race|seat))|"
                    r"\b(?:House|Senate|Assembly)\s+(?:committee|sponsor|members?|Democrats|Republicans|leaders?|"
                    r"version|companion|calendar|floor|vote|passage|majority|minority|chamber)\b|"
                    r"\b(?:[Ll]awmakers|[Ll]egislators|[Ss]enators)\b|"
                    r"\b(?:[Tt]he\s+)?(?:legislative|special)\s+session\b|\b[Tt]he\s+session\b"),
    # An agreement counts for its local party, a policy for the agency whose it is.
    ("act", r"\b(?:[Tt]he|[Tt]his|[Tt]hat|[Ii]ts|[Tt]heir)\s+(?:new\s+|latest\s+|proposed\s+)?"
            r"(?:agreement|policy|pact|arrangement)\b"),
    # The government's own enactments: "the bill", "the new law", "the ordinance", "the veto".
    ("enactment", r"\b(?:[Tt]he|[Tt]his|[Tt]hat|[Tt]hose|[Tt]hese|[Ii]ts|[Tt]heir)\s+"
                  r"(?P<whose>(?:state|city|county)(?:['’]s)?\s+)?"
                  r"(?:(?:new|proposed|original|so-called|sanctuary|anti-sanctuary|immigration|final|current|amended|"
                  r"revised|earlier|latest|two|three|introduced|whole|entire)\s+){0,2}"
                  r"(?P<noun>bills?|laws?(?!\s+(?:enforcement|firm|school|clinic|center|professor))|legislation|"
                  r"measures?|"
                  r"package|ordinances?|resolutions?|veto|statutes?|ban)\b"),
]
_ANAPHORA_RE = [(kind, re.compile(pattern)) for kind, pattern in _ANAPHORA]
# A word each kind's pattern cannot match without, to skip the pattern cheaply (most sentences
# have none of them).
_NEEDLES = {"sheriff": ("sheriff",), "jail": ("jail", "detention", "lockup"), "police": ("police", "officers"),
            "state police": ("police", "trooper"), "local police": ("police",), "deputies": ("deputies",),
            "department": ("department", "agency", "office"), "corrections": ("correction", "jails"),
            "county police": ("police",), "board": ("board", "commission", "supervisors"),
            "county": ("county", "commissioner", "supervisor", "board"),
            "city": ("city", "mayor", "council", "metro", "town"), "district": ("district",),
            "state": ("state", "legislature", "general assembly", "governor"),
            "legislature": ("senate", "house", "assembly", "lawmakers", "legislators", "senators", "session"),
            "act": ("agreement", "policy", "pact", "arrangement"),
            "enactment": ("bill", "law", "legislation", "measure", "package", "ordinance", "resolution", "veto",
                          "statute", "ban")}
_NOT_THIS_LEGISLATURE = re.compile(r"(?:U\.S\.|federal|congressional|city|county|town|local)\s+$")
_ELSEWHERE = re.compile(r"\s+(?:(?:around|across)\s+the\s+(?:country|nation)|nationwide|in\s+(?:other|\d+|several|many|"
                        r"all)\s+states|in\s+Congress|in\s+Washington|of\s+both\s+parties\s+nationwide)")
# "Follow the law", "within the bounds of the law": law in general, not one enactment.
_LAW_IN_GENERAL = re.compile(r"(?:follow|following|followed|uphold|upholding|enforce|enforcing|obey|obeying|break|"
                             r"breaking|broke|violate|violating|violated|bounds\s+of|above|within|comply\s+with|"
                             r"complying\s+with)\s+$")
# A state bill by its number: "HB 1549", "Senate Bill 9", "Assembly Bill 1081", "LB 48", "SB4" (not
# a bill of Congress, "H.R. 5").
_STATE_BILL = re.compile(r"\b(?:(?:House|Senate|Assembly|Legislative)\s+(?:Bill|File)s?|[HSAL]\.?B\.?|[HS]\.?F\.?)\s?"
                         r"(?P<number>\d{1,4})\b")
_LEGISLATURE_SIGNS = re.compile(r"\b(?:Legislature|General\s+Assembly|[Ss]tate\s+(?:Senate|House|Assembly|lawmakers|"
                                r"legislators|legislature)|[Ll]egislative\s+session|[Ss]tatehouse)\b")

# People, for "he" and "she": a name of two to four capitalised words ("Fatma Marouf", "Alejandro
# N. Mayorkas") once leading titles are dropped, with no word that names an institution, a place
# or a date ("Secure Communities", "Supreme Court", "Santa Clara").
_NAME_WORD = r"(?:[A-Z][a-z]+(?:[A-Z][a-z]+)?|[A-Z]\.)"
_FULL_NAME = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}\s+[A-Z][a-z][\w’'\-]*(?<!['’]s)")
_NOT_NAMES = frozenset("""
    The A An In On At For Under After Before When While With By From Of To That This Those These It Its His Her
    Their Our We He She They But And Or If As Also Some Many Most All Every Each No Not One Two Three Four Five Six
    Seven Eight Nine Ten First Second Third Last Next New Old Other Another Any Both Such Since Until Unlike Like
    Despite During Without Within Among Between Over Through About Against Into Then Now Here There Where What
    Which Who Why How Only Even Still Yet Once Late Early Later Earlier Meanwhile However Instead
    January February March April May June July August September October November December Jan Feb Mar Apr Jun
    Jul Aug Sep Sept Oct Nov Dec Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    President Vice Secretary Director Acting Deputy Assistant Chief Officer Officers Agent Agents Judge Justice
    Justices Mayor Governor Gov Sen Sens Rep Reps Senator Representative Speaker Leader Chairman Chairwoman Chair
    Commissioner Commissioners Sheriff Sheriffs Attorney General Lt Mr Mrs Ms Dr Detective Sgt Capt Lieutenant
    Warden Councilman Councilwoman Council Member Members Supervisor Supervisors Former Outgoing Incoming Interim
    County Counties City Cities Town State States Police Department Office Board Commission Court Courts Supreme
    Federal National American Americans United Immigration Immigrant Immigrants Customs Enforcement Homeland
    Security Secure Communities Program Act Bill Law Laws House Senate Assembly Legislature Legislative Committee
    Association Center Centre University College School Schools Church Party Democratic Republican Democrat
    Democrats Republicans Union Coalition Network Initiative Project Institute Foundation Alliance Movement
    Services Service Affairs Rights Liberties Civil Legal Clinic Times Post News Tribune Journal Press Associated
    Street Road Avenue Island River Valley Mountain Lake Park North South East West Northern Southern Eastern
    Western Central Detention Jail Facility Corrections Correction Patrol Highway Public Safety Border Sanctuary
    Order Executive Amendment Constitution Congress Congressional Capitol Hall Administration Bureau Agency
    Division Authority Task Force Fraternal Conference Report Research Census Health Human Labor Defense
    Proposition Catholic Christian Latino Latina Latinos Hispanic Hispanics Mexican Spanish English
    Advertisement Photo Share Related Sign Copyright Metro Metropolitan Regional Municipal Unified Greater
""".split())
_SPEECH = (r"said|says|told|argued|added|noted|warned|wrote|insisted|acknowledged|explained|estimated|predicted|"
           r"recalled|announced|called|described|conceded|replied|asked|urged|cautioned|contended|praised|"
           r"criticized|thanked|pressed|claimed|vowed|pledged|promised|stressed|maintained|agreed|believes|fears")
_SPOKE_AFTER = re.compile(rf"\s*(?:,[^,]{{1,80}},\s*)?(?:{_SPEECH})\b")
_SPOKE_BEFORE = re.compile(rf"(?:\b(?:{_SPEECH})|\baccording\s+to)\s+$")
# "He or she", "his or her": anyone at all, not a person named before.
_PRONOUN = re.compile(r"(?<!\bor\s)\b(?:[Hh]e|[Ss]he|[Hh]is|[Hh]er|him)\b(?!\s+or\s+(?:she|he|her|his|him)\b)")
# Where a sentence ends: terminal punctuation (and a closing quote) before a capital, except after
# the abbreviations news puts before names and dates.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’]?\s+(?=[\"“]?[A-Z0-9])|\n+")
_ABBREVIATION = re.compile(r"(?:\b(?:Gov|Sen|Sens|Rep|Reps|Mr|Mrs|Ms|Dr|Lt|St|Ft|Mt|Jr|Sr|Gen|Col|Capt|Sgt|Det|No|"
                           r"Jan|Feb|Aug|Sept|Sep|Oct|Nov|Dec|Ave|Inc|Co|Corp|vs|U\.S|D\.C)|\b[A-Z])\.$")
_DATELINE = re.compile(r"^(?P<place>[A-Z][A-Z.'’\- ]+?)(?:,\s*(?P<state>[A-Z][A-Za-z.]+(?:\s[A-Z][A-Za-z.]+)?))?"
                       r"\s*(?:\([^)]{1,40}\))?\s*(?:—|–|--)\s", re.M)
_STATE_DEPARTMENT = (r"(?:Department\s+of\s+)?State\s+Police|State\s+Patrol|Highway\s+Patrol|Department\s+of\s+Public\s+Safety|"
                     r"Department\s+of\s+Law\s+Enforcement|"
                     r"Department\s+of\s+(?:Corrections,\s+Rehabilitation\s+and\s+Reentry|"
                     r"Corrections\s+and\s+Rehabilitation|Corrections?|Correction|Rehabilitation\s+and\s+Correction|"
                     r"Criminal\s+Justice)|National\s+Guard")
_STATE_GOVERNMENT = (r"Legislature|legislature|General\s+Assembly|House|Senate|lawmakers|legislators|Gov\.|Governor|"
                     r"governor|Attorney\s+General|attorney\s+general|officials|Republicans|Democrats|government|"
                     r"law|leaders")


@lru_cache(maxsize=None)
def _state_patterns():
    names = "|".join(re.escape(n) for n in gazetteer.state_names())
    department = re.compile(rf"\b(?P<state>{names})\s+(?P<tail>{_STATE_DEPARTMENT})\b")
    government = re.compile(rf"\b(?P<state>{names})(?P<poss>{_POSS})?\s+(?P<tail>{_STATE_GOVERNMENT})\b")
    bare = re.compile(rf"\b(?P<state>{names})(?P<poss>{_POSS})?\b")
    return department, government, bare


def _title_case(text: str) -> str:
    return " ".join(w if not w.isupper() or len(w) <= 2 and "." not in w else w.title() for w in text.split())


def _words_with_offsets(text: str, start: int) -> list[tuple[int, str]]:
    return [(start + m.start(), m.group()) for m in re.finditer(r"\S+", text)]


class ArticleContext:
    """What one article tells the resolver: its state, its dateline place, and every agency it
    names outright, with positions, so a later "the sheriff" finds the sheriff it means."""

    def __init__(self, text: str, state: str | None = None):
        self.text = text
        self.states: list[str] = []
        self.home_city: gazetteer.Place | None = None
        self.home_county: gazetteer.County | None = None
        self._cursor = 0
        known = gazetteer.state(state) if state else None
        self._read_dateline(known)
        named = self._named_states()
        for code in ([known.abbr] if known else []) + [c for c, _ in named.most_common()]:
            if code not in self.states:
                self.states.append(code)
        if self.home_city and self.home_city.state not in self.states:
            self.states.insert(0 if not known else 1, self.home_city.state)
        self.people: dict[str, Agency] = {}
        self.bills: dict[str, str] = {}  # "SB1070" -> the state whose bill it is, once the article says
        named = _explicit(text, 0, self)
        self.mentions: list[Mention] = self.settle_jails(named, among=named)
        self.legislature = bool(self.bills) or bool(_LEGISLATURE_SIGNS.search(text))
        if self.home_county is None:
            self.home_county = self._most_named_county()
        self._bind_people()

    # -- the article as a whole -------------------------------------------------------------
    def _read_dateline(self, known: gazetteer.State | None) -> None:
        match = _DATELINE.search(self.text[:3000])
        if not match:
            return
        place = _title_case(match.group("place").strip())
        named = gazetteer.state_named(match.group("state")) if match.group("state") else None
        code = named.abbr if named else (known.abbr if known else None)
        county = re.match(r"(.+)\s+(County|Parish|Borough)$", place)
        if county:
            found = gazetteer.counties(county.group(1), code) if code else []
            if found:
                self.home_county = found[0]
                self.states.append(found[0].state)
            return
        found = gazetteer.places(place, code) if code else gazetteer.places(place)
        if not found and gazetteer.state_named(place):
            found = gazetteer.places(f"{place} City", code) if code else gazetteer.places(f"{place} City")
        if found:
            self.home_city = found[0]
        elif code:  # a town too small for the gazetteer: the dateline itself says it is one
            self.home_city = gazetteer.Place(place, code, 0)
        if self.home_city:
            self.states.append(self.home_city.state)

    def _named_states(self) -> Counter:
        _, _, bare = _state_patterns()
        counts: Counter = Counter()
        for match in bare.finditer(self.text):
            found = gazetteer.state_named(match.group("state"))
            if found and not (found.abbr == "WA" and match.group("state") == "Washington"):
                counts[found.abbr] += 1
        for match in re.finditer(r",\s+([A-Z][a-z]{1,4}\.(?:\s?[A-Z][a-z]?\.)?)", self.text):
            found = gazetteer.state_named(match.group(1))
            if found:
                counts[found.abbr] += 1
        return counts

    def _most_named_county(self) -> gazetteer.County | None:
        counts = Counter(m.county for m in self.mentions if m.county)
        for name, _ in counts.most_common():
            found = gazetteer.counties(name.rsplit(" ", 1)[0], self.states[0]) if self.states else []
            if found:
                return found[0]
        return None

    def _bind_people(self) -> None:
        """Surnames a title introduces ("Harris County Sheriff Ed Gonzalez", "Mayor Stodola")
        stand for that agency wherever they appear alone later."""
        for match in _TITLE.finditer(self.text):
            agency = self._title_agency(match, self.text, 0)
            surname = match.group("surname")
            if agency and surname not in self.people and surname not in _NOT_SURNAMES:
                self.people[surname] = agency

    def _title_agency(self, match, text: str, offset: int) -> Agency | None:
        title = next(k for k in _TITLES if match.group(k))
        kind = _TITLE_KIND.get(title, title)
        if title == "legislator":
            home = _HOMETOWN.match(text, match.end())
            if not home or gazetteer.state_named(home.group("tagged") or home.group("of")):
                return None
            # The legislature of the hometown's state ("D-McAllen" is Texas), else the article's own.
            town = re.sub(r"\s+(?:County|Parish)$", "", home.group("tagged") or home.group("of"))
            place = self.place(town, None) or \
                next(iter(gazetteer.counties(town, self.states[0] if self.states else None)), None)
            state = gazetteer.state(place.state) if place else None
            if state:
                return Agency(state.name, state.abbr, "state")
            return self.main(("state",)) or self.refer("state", offset + match.start())
        start = offset + match.start()
        for mention in self.mentions:
            # "Harris County Sheriff Ed Gonzalez": the title ends an explicit mention of its kind.
            if mention.start <= start < mention.end + 1 and mention.agency.kind == kind:
                return mention.agency
        surname = match.group("surname")
        if surname in self.people and self.people[surname].kind == kind:
            return self.people[surname]
        return self.refer("board" if title == "board" else kind, start)

    # -- places ----------------------------------------------------------------------------------
    def state_after(self, text: str, end: int) -> str | None:
        """The state written right after a name: "Cook County, Ill." or "Salem (Ore.)"."""
        match = re.match(r"\s*[,(]\s*([A-Z][A-Za-z.]+(?:\s[A-Z][A-Za-z.]+)?)", text[end:end + 30])
        if match:
            found = gazetteer.state_named(match.group(1).rstrip(")"))
            if found:
                return found.abbr
        return None

    def county(self, name: str, explicit_state: str | None, unit: str = "County") -> gazetteer.County | None:
        for code in [explicit_state] if explicit_state else self.states:
            found = gazetteer.counties(name, code, unit)
            if found:
                return found[0]
        if explicit_state:
            return None
        everywhere = gazetteer.counties(name, None, unit)
        return everywhere[0] if len({c.state for c in everywhere}) == 1 else None

    def place(self, name: str, explicit_state: str | None) -> gazetteer.Place | None:
        if self.home_city and gazetteer.name_key(name) == gazetteer.name_key(self.home_city.name) and \
                explicit_state in (None, self.home_city.state):
            return self.home_city
        for rank, code in enumerate([explicit_state] if explicit_state else self.states):
            found = gazetteer.places(name, code) or (gazetteer.places(f"{name} City", code)
                                                     if gazetteer.state_named(name) else [])
            # Beyond the article's own two states only a sizeable city counts: "Brenda, Ariz."
            # is more often a first name in a Nebraska story.
            if found and (rank < 2 or found[0].population >= 50_000):
                return found[0]
        if explicit_state:
            return None
        found = gazetteer.places(name)
        # A big city known by name alone ("Denver police" in a Texas story), never a small town.
        if found and found[0].population >= 100_000 and (len(found) == 1 or found[0].population >= 10 * found[1].population):
            return found[0]
        return None

    # -- leaning on the article ------------------------------------------------------------------
    def refer(self, kind: str, position: int) -> Agency | None:
        """The agency of `kind` that a mention at `position` leans on: the one named nearest
        before it in its paragraph, else the article's own agency of that kind (`main`), else
        the one the article's own place implies."""
        kinds = {"department": ("police", "sheriff"), "county police": ("police",), "board": ("county",),
                 "state police": ("police",), "local police": ("police",)}.get(kind, (kind,))
        named = [m for m in self.mentions if m.explicit and m.agency.kind in kinds]
        before = [m for m in named if m.start < position]
        after = [m for m in named if m.start >= position]
        if kind == "local police":  # only where the article names a local force
            local = [m for m in named if not _state_force(m.agency)]
            if not local:
                return None
            if before and "\n" not in self.text[before[-1].end:position] and not _state_force(before[-1].agency):
                return before[-1].agency
            return self.main(("police",), local)
        if kind == "deputies":
            return self.refer("sheriff", position) if self.main(("sheriff",)) or self._county_near(position) else None
        if kind == "state police":  # only a state force the article names ("Idaho State Police")
            forces = [m for m in named if _state_force(m.agency)]
            counts = Counter(m.agency for m in forces)
            return max(counts, key=lambda a: (a.state == (self.states[0] if self.states else ""), counts[a])) \
                if counts else None
        if kind == "department":
            if before and not _FEDERAL_DEPARTMENT.search(self.text[before[-1].end:position]):
                return before[-1].agency
            return None
        if kind in ("board", "county"):
            # A county named just before, even as a place, is the one whose board or officials
            # are meant: "neighboring Prince William County ... board Chairman Corey Stewart".
            places = [m for m in self.mentions if m.county and m.agency.kind == "county" and m.start < position]
            if places and "\n" not in self.text[places[-1].end:position]:
                return places[-1].agency
        if kind == "district":  # "the District" is Washington's own government, in a story from there
            home = self.home_city
            return Agency(home.name, home.state, "city") if home and home.state == "DC" else None
        if kind == "county police":
            named = [m for m in before + after if m.agency.name.endswith("County Police Department")]
            if named:
                return named[0].agency
            county = self._county_near(position)
            return Agency(f"{county.full} Police Department", county.state, "police") if county else None
        if kind == "state":
            # "Gov. Haley" and "the state" are the article's state, unless another was just named.
            near = [m for m in before if position - m.end < 300]
            return near[-1].agency if near else self._implied(kind, position)
        # One named earlier in the same paragraph is the one meant; further back, the article's
        # own agency of the kind wins over one it named in passing ("Santa Clara County took the
        # same step").
        if before and "\n" not in self.text[before[-1].end:position]:
            return before[-1].agency
        main = self.main(kinds)
        if main:
            return main
        if kind == "board":
            return None
        return self._implied(kind, position)

    def main(self, kinds: tuple[str, ...], named: list[Mention] | None = None) -> Agency | None:
        """The article's own agency of these kinds (among `named`, by default all it names): of
        its state first, then named most often, then named first."""
        if named is None:
            named = [m for m in self.mentions if m.explicit and m.agency.kind in kinds]
        if not named:
            return None
        home = self.states[0] if self.states else ""
        counts = Counter(m.agency for m in named)
        first: dict[Agency, int] = {}
        for m in named:
            first.setdefault(m.agency, m.start)
        return max(counts, key=lambda a: (a.state == home, counts[a], -first[a]))

    def actor(self, position: int) -> Agency | None:
        """Whose agreement or policy a mention at `position` is: the agency the article last
        spoke of earlier in the paragraph, else the one it speaks of most."""
        spoken = sorted([(m.start, m.agency) for m in self.mentions if m.explicit] +
                        [(p[0], p[2]) for p in self._persons if p[2]] + self._governments, key=lambda g: g[0])
        before = [(start, agency) for start, agency in spoken if start < position]
        if before and "\n" not in self.text[before[-1][0]:position]:
            return before[-1][1]
        counts = Counter(agency for _, agency in spoken)
        home = self.states[0] if self.states else ""
        return max(counts, key=lambda a: (a.state == home, counts[a])) if counts else None

    def corrections(self, position: int, own: str) -> Agency | None:
        """"The Department of Corrections" by no one's name, or "city jails": one the article
        names, else the department of the county or city the article is about, if it speaks of
        that government ("the Department of Correction" in a story of New York City's laws)."""
        named = [m.agency for m in self.mentions
                 if m.explicit and m.agency.kind == "jail" and "Correction" in m.agency.name]
        if named:
            return Counter(named).most_common(1)[0][0]
        if not own:  # "city jails": the city's department, when the article names one by no name
            found = re.search(r"Department\s+of\s+Corrections?\b", self.text)
            if not found or not self.home_city:
                return None
            own = found.group()
        own = " ".join(own.split())
        spoken = {m.agency for m in self.mentions if m.explicit} | {agency for _, agency in self._governments}
        county = self.home_county
        if county and any(a.state == county.state and a.name.startswith(county.full) for a in spoken):
            return Agency(f"{county.full} {own}", county.state, "jail")
        city = self.home_city
        if city and Agency(city.name, city.state, "city") in spoken:
            return Agency(f"{city.name} {own}", city.state, "jail")
        return None

    def _implied(self, kind: str, position: int) -> Agency | None:
        county = self._county_near(position)
        if kind == "sheriff" and county:
            return _sheriff(county)
        if kind == "jail" and county:  # an unnamed county jail is the sheriff's, who runs it
            return _sheriff(county)
        if kind == "county" and county:
            return Agency(county.full, county.state, "county")
        if kind == "city" and self.home_city:
            return Agency(self.home_city.name, self.home_city.state, "city")
        if kind == "police" and self.home_city:
            return _police(self.home_city.name, self.home_city.state)
        if kind == "police" and county and re.search(r"\b[Cc]ounty police\b", self.text):
            return Agency(f"{county.full} Police Department", county.state, "police")
        if kind == "state" and self.states:
            found = gazetteer.state(self.states[0])
            return Agency(found.name, found.abbr, "state") if found else None
        return None

    def _county_near(self, position: int) -> gazetteer.County | None:
        with_county = [m for m in self.mentions if m.county]
        before = [m for m in with_county if m.start < position]
        chosen = before[-1] if before else (with_county[0] if with_county else None)
        if chosen:
            name, unit = chosen.county.rsplit(" ", 1)
            found = gazetteer.counties(name, chosen.agency.state, unit)
            if found:
                return found[0]
        return self.home_county

    def settle_jails(self, mentions: list[Mention], among: list[Mention] | None = None) -> list[Mention]:
        """A jail by description ("the Gadsden jail", "Etowah County jail") is the jail the
        article names in its own words (among `among`, by default all it names), if it names one
        there; else a county's jail is its sheriff's, who runs it."""
        named = [m for m in (self.mentions if among is None else among)
                 if m.explicit and m.agency.kind == "jail" and not m.generic]
        settled = []
        for mention in mentions:
            if mention.generic:
                same = [m for m in named if m.agency.state == mention.agency.state and
                        (m.county == mention.county if mention.county else True)]
                if same:
                    counts = Counter(m.agency for m in same)
                    mention = replace(mention, agency=max(counts, key=counts.get), generic=False)
                elif mention.county:
                    name, unit = mention.county.rsplit(" ", 1)
                    found = gazetteer.counties(name, mention.agency.state, unit)
                    if found:
                        mention = replace(mention, agency=_sheriff(found[0]), generic=False)
            settled.append(mention)
        return settled

    # -- people, for "he" and "she" ----------------------------------------------------------------
    @cached_property
    def _sentence_starts(self) -> list[int]:
        starts = [0]
        for match in _SENTENCE_END.finditer(self.text):
            before = self.text[max(0, match.start() - 6):match.start()]
            if match.group().startswith("\n") or not _ABBREVIATION.search(before):
                starts.append(match.end())
        return starts

    @cached_property
    def _persons(self) -> list[tuple[int, int, Agency | None]]:
        """Every person the article names, in order: (start, end, the agency they speak for or
        None). Officials come from titles and the surnames titles bound; anyone else named in
        full, and later by surname alone, is a person too, so "she" after "Fatma Marouf, a
        professor" is not the sheriff named before her."""
        found: list[tuple[int, int, Agency | None]] = []
        taken = [(m.start, m.end) for m in self.mentions if m.explicit]

        def free(start: int, end: int) -> bool:
            return all(end <= a or start >= b for a, b in taken)

        for match in _TITLE.finditer(self.text):
            found.append((match.start(), match.end(), self._title_agency(match, self.text, 0)))
            taken.append((match.start(), match.end()))
        others: set[str] = set()
        for match in _FULL_NAME.finditer(self.text):
            words = match.group().split()
            while words and words[0].rstrip(".") in _NOT_NAMES:
                words = words[1:]
            if len(words) < 2 or any(w.rstrip(".") in _NOT_NAMES for w in words):
                continue
            name = " ".join(words)
            start = match.end() - len(name)
            if not free(start, match.end()) or gazetteer.state_named(name) or gazetteer.places(name):
                continue
            surname = words[-1]
            found.append((start, match.end(), self.people.get(surname)))
            taken.append((start, match.end()))
            if surname not in self.people:
                others.add(surname)
        for match in re.finditer(r"\b[A-Z][a-z][\w\-]*(?:['’](?!s\b)[\w\-]+)?", self.text):
            surname = match.group()
            if (surname in self.people or surname in others) and free(match.start(), match.end()):
                found.append((match.start(), match.end(), self.people.get(surname)))
        return sorted(found, key=lambda p: p[0])

    def antecedent(self, position: int) -> Agency | None:
        """The agency of the person a "he" or "she" at `position` stands for: the subject of the
        nearest of the three sentences before it that names anyone (the one it quotes, "Winder
        said", else the first named), when that person speaks for an agency. A pronoun after a
        name in its own sentence belongs to that name, which speaks for itself."""
        starts = self._sentence_starts
        index = max(0, next((i for i, s in enumerate(starts) if s > position), len(starts)) - 1)
        if any(starts[index] <= p[0] < position for p in self._persons):
            return None
        for i in range(index - 1, max(-1, index - 4), -1):
            end = starts[i + 1]
            persons = [p for p in self._persons if starts[i] <= p[0] < end]
            if not persons:
                continue
            speaking = [p for p in persons if _SPOKE_AFTER.match(self.text, p[1]) or
                        _SPOKE_BEFORE.search(self.text[max(0, p[0] - 30):p[0]])]
            return (speaking or persons)[0][2]
        return None

    # -- enactments -------------------------------------------------------------------------------
    @cached_property
    def _governments(self) -> list[tuple[int, Agency]]:
        """Every mention of a state, county or city government, in order, with its agency: named,
        through an official, or leaning on the article ("the governor", "the council")."""
        found = [(m.start, m.agency) for m in self.mentions
                 if m.explicit and m.agency.kind in ("state", "county", "city")]
        found += [(p[0], p[2]) for p in self._persons if p[2] and p[2].kind in ("state", "county", "city")]
        found += [(start, agency) for start, _, agency in
                  _leaning(self.text, 0, self, ("state", "legislature", "county", "board", "city"))]
        return sorted(found, key=lambda g: g[0])

    def enactment(self, position: int, noun: str) -> Agency | None:
        """Whose bill, law, measure or ordinance a mention at `position` is: the government the
        article last spoke of earlier in the paragraph, else the one it speaks of most (an
        ordinance is a city's or a county's)."""
        kinds = ("county", "city") if noun.startswith("ordinance") else ("state", "county", "city")
        before = [(start, agency) for start, agency in self._governments if start < position and agency.kind in kinds]
        if before and "\n" not in self.text[before[-1][0]:position]:
            return before[-1][1]
        home = self.states[0] if self.states else ""
        counts = Counter(agency for _, agency in self._governments if agency.kind in kinds)
        return max(counts, key=lambda a: (a.state == home, counts[a])) if counts else None

    def locate(self, sentence: str) -> int:
        """Where a sentence of this article starts (sentences come in order)."""
        found = self.text.find(sentence, self._cursor)
        if found < 0:
            found = self.text.find(sentence)
        if found < 0:
            return len(self.text)
        self._cursor = found
        return found


def _sheriff(county: gazetteer.County) -> Agency:
    led = _SHERIFF_LED.get((county.full, county.state))
    if led:
        return Agency(led[1], county.state, "police")
    return Agency(f"{county.full} Sheriff's Office", county.state, "sheriff")


def _state_force(agency: Agency) -> bool:
    """A state's own police ("Idaho State Police", "Missouri State Highway Patrol")."""
    state = gazetteer.state(agency.state)
    return agency.kind == "police" and bool(state) and agency.name.startswith(f"{state.name} ") and \
        bool(re.match(r"(?:State\s|Highway\s|Department\sof\sPublic\sSafety)", agency.name[len(state.name) + 1:]))


def _police(city: str, state: str) -> Agency:
    return Agency(_METRO_POLICE.get((city, state), f"{city} Police Department"), state, "police")


def _trim(match, group: str, resolve):
    """Drop leading capitalised words that are not part of the name ("The", "Democratic",
    "Metropolitan King County") until the gazetteer knows the rest; return (start, result)."""
    words = _words_with_offsets(match.group(group), match.start(group))
    for i in range(len(words)):
        start = words[i][0]
        candidate = " ".join(w for _, w in words[i:])
        result = resolve(candidate)
        if result:
            return start, result
        # A consolidated government's double name: "Athens-Clarke County" is Clarke County.
        head, dash, tail = candidate.partition("-")
        if dash and " " not in head and tail[:1].isupper():
            result = resolve(tail)
            if result:
                return start + len(head) + 1, result
    return None, None


def _after_location(text: str, start: int) -> bool:
    return bool(_LOCATION.search(text[max(0, start - 25):start]))


def _explicit(text: str, offset: int, context: ArticleContext) -> list[Mention]:
    """Agencies named outright in `text` (which starts at `offset` in the article)."""
    found: list[Mention] = []
    claimed: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in claimed)

    def add(start: int, end: int, agency: Agency, county: str = "", city: str = "", explicit: bool = True,
            generic: bool = False) -> None:
        if free(start, end):
            claimed.append((start, end))
            found.append(Mention(offset + start, offset + end, agency, explicit, county, city, generic))

    for match in _ACRONYM.finditer(text):
        city, code = _ACRONYMS[match.group()]
        add(match.start(), match.end(), _police(city, code), city=city)

    department, government, bare_state = _state_patterns()
    for match in _STATE_BILL.finditer(text):
        head = match.group().split()[0] if " " in match.group() else match.group()[:2]
        prefix = {"House": "HB", "Senate": "SB", "Assembly": "AB", "Legislative": "LB"}.get(head)
        key = (prefix or head.replace(".", "")[:2]) + match.group("number")
        # "Arizona's SB 1070" or "Texas' SB 4" says whose; later the number alone does.
        named = re.search(r"\b(?P<state>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)(?:['’]s?)?\s+$",
                          text[max(0, match.start() - 25):match.start()])
        state = gazetteer.state_named(named.group("state")) if named else None
        if state:
            context.bills.setdefault(key, state.abbr)
        code = state.abbr if state else context.bills.get(key) or (context.states[0] if context.states else None)
        if code and not _preceded_by_federal(text, match.start()):
            context.bills.setdefault(key, code)
            add(match.start(), match.end(), Agency(gazetteer.state(code).name, code, "state"))
    for match in department.finditer(text):
        state = gazetteer.state_named(match.group("state"))
        tail = " ".join(match.group("tail").split()).replace("Department of State Police", "State Police")
        kind = "jail" if "Correction" in tail or "Criminal Justice" in tail else "police"
        if state and not _preceded_by_federal(text, match.start()):
            add(match.start(), match.end(), Agency(f"{state.name} {tail}", state.abbr, kind))

    for match in _COUNTY.finditer(text):
        unit, tail = match.group("unit"), match.group("tail")
        explicit_state = context.state_after(text, match.end("unit"))
        start, county = _trim(match, "name", lambda n: context.county(n, explicit_state, unit))
        if not county:
            continue
        end = match.end()
        agency = _county_agency(county, tail)
        if agency is None and _PARTY.match(text, match.end("unit")):
            continue  # "the Pima County Democratic Party" is no government
        if agency is None:  # a place, not an actor: "in Harris County"
            end = match.end("unit")
            if _after_location(text, start):
                if free(start, end):
                    claimed.append((start, end))
                    found.append(Mention(offset + start, offset + end, Agency(county.full, county.state, "county"),
                                         False, county.full))
                continue
            agency = Agency(county.full, county.state, "county")
        if agency.kind == "county":
            start, agency = _consolidated(text, start, agency)
        add(start, end, agency, county=county.full, generic=agency.kind == "jail" and tail == tail.lower())
    # Drop the location-only entries again: they were kept to claim the span and name a county.
    locations = [m for m in found if not m.explicit]
    found = [m for m in found if m.explicit]

    for match in _BOARD_OF_COUNTY.finditer(text):
        start, county = _trim(match, "name", lambda n: context.county(n, None))
        if county:
            start, agency = _consolidated(text, start, Agency(county.full, county.state, "county"))
            add(start, match.end(), agency, county=county.full)

    for match in _CITY_SHERIFF.finditer(text):
        start, place = _trim(match, "name", lambda n: context.place(n, context.state_after(text, match.end("name")))
                             or context.county(n, None))
        if isinstance(place, gazetteer.County):
            add(start, match.end(), _sheriff(place), county=place.full)
        elif place:
            county = context.county(place.name, place.state)
            agency = _sheriff(county) if county else Agency(f"{place.name} Sheriff's Office", place.state, "sheriff")
            add(start, match.end(), agency, county=county.full if county else "", city=place.name)

    for match in _CITY_POLICE.finditer(text):
        start, place = _trim(match, "name", lambda n: context.place(n, context.state_after(text, match.end("name"))))
        if place and not gazetteer.state_named(match.group("name").split()[-1]):
            add(start, match.end(), _police(place.name, place.state), city=place.name)

    for match in _REGIONAL_JAIL.finditer(text):
        code = context.states[0] if context.states else ""
        words = [w for w in match.group("name").split() if w not in ("The", "A", "An")]
        if code and words:
            name = f"{' '.join(words)} {' '.join(match.group('tail').split())}".replace(" Authority", "")
            add(match.end("name") - len(" ".join(words)), match.end(), Agency(name, code, "jail"))

    for match in _CITY_JAIL.finditer(text):
        start, place = _trim(match, "name", lambda n: context.place(n, None))
        if place:
            add(start, match.end(), Agency(f"{place.name} Jail", place.state, "jail"), city=place.name,
                generic=match.group("tail") == "jail")

    for match in government.finditer(text):
        state = gazetteer.state_named(match.group("state"))
        if not state or _after_location(text, match.start()) or _is_city_in(context, match.group("state")):
            continue
        add(match.start(), match.end(), Agency(state.name, state.abbr, "state"))

    for pattern in (_CITY_GOVERNMENT, _CITY_OF):
        for match in pattern.finditer(text):
            start, place = _trim(match, "name", lambda n: _city_place(context, n, text, match.end("name")))
            if place and not _TITLED.search(text[max(0, start - 16):start]):  # "Sen. Brenda Council" is a person
                add(start, match.end(), Agency(place.name, place.state, "city"), city=place.name)

    def possessor(name: str):
        if _PLACE_NOUNS.match(text, match.end()):
            return None  # "Arlington's residents", "Georgia's other detention sites": a place's
        place = _city_place(context, name, text, match.end("name"), strict=True)
        if place:
            return Agency(place.name, place.state, "city")
        state = gazetteer.state_named(name)
        if not state or _is_city_in(context, name):
            return None
        return Agency(state.name, state.abbr, "state")

    for match in _POSSESSIVE.finditer(text):
        start, agency = _trim(match, "name", possessor)
        if agency:
            add(start, match.end("name") + 2, agency, city=agency.name if agency.kind == "city" else "")

    for match in bare_state.finditer(text):
        name = match.group("state")
        state = gazetteer.state_named(name)
        if not state or _after_location(text, match.start()) or _is_city_in(context, name):
            continue
        after = text[match.end():match.end() + 2]
        if name == "Washington" and "WA" not in context.states[:1]:
            continue  # "Washington" is the federal government far more often than the state
        before = text[max(0, match.start() - 20):match.start()]
        if re.match(r"\s[A-Z]", after) or re.search(r"[A-Z][\w.]*\s$", before):
            continue  # part of a longer proper name: "Texas Tribune", "New Mexico State"
        if re.search(r"[A-Z][\w.]*,\s*$", before):
            continue  # "Los Angeles, California": where, not who
        if _in_dateline(text, match.start()) or _STATE_AS_PLACE.match(text, match.end()) or \
                match.group("poss") and _PLACE_NOUNS.match(text[match.end():match.end() + 40].lstrip()):
            continue
        add(match.start(), match.end(), Agency(state.name, state.abbr, "state"))

    if context.home_city:
        home = re.escape(context.home_city.name)
        for match in re.finditer(rf"(?<![DR]-)\b{home}\b(?=\s+(?:(?:{_CITY_VERBS})\b|{_CITY_STATE}))", text):
            if not _after_location(text, match.start()) and not _in_dateline(text, match.start()) and \
                    not re.search(r"[A-Z][\w.]*\s$", text[max(0, match.start() - 20):match.start()]):
                add(match.start(), match.end(), Agency(context.home_city.name, context.home_city.state, "city"),
                    city=context.home_city.name)

    for match in _GOVERNMENT_LIST.finditer(text):
        if _after_location(text, match.start()):
            continue
        items = []
        for item in re.finditer(rf"{_NAME}", match.group("list")):
            start, end = match.start("list") + item.start(), match.start("list") + item.end()
            words = item.group().split()
            while len(words) > 1 and not items and words[0] in _NOT_NAMES:  # "The", "In"
                start += len(words[0]) + 1
                words = words[1:]
            unit = words[-1] if words[-1] in ("County", "Parish") and len(words) > 1 else None
            name = " ".join(words)
            state = gazetteer.state_named(name)
            if unit:
                county = context.county(" ".join(words[:-1]), None, unit)
                agency = Agency(county.full, county.state, "county") if county else None
            elif state:
                agency = Agency(state.name, state.abbr, "state")
            else:
                place = _city_place(context, name, text, end, strict=True)
                agency = Agency(place.name, place.state, "city") if place else None
            if agency is None:
                break  # not a list of governments
            items.append((start, end, agency))
        else:
            for start, end, agency in items:
                add(start, end, agency, county=agency.name if agency.kind == "county" else "",
                    city=agency.name if agency.kind == "city" else "")

    found.extend(locations)
    return sorted(found, key=lambda m: m.start)


# A state's name describing its places and people, not its government: "Florida sheriffs", "three
# New Mexico cities", "an Arizona-style crackdown", "Georgia's other detention sites".
_STATE_AS_PLACE = re.compile(r"-style\b|\s+(?:sheriffs?|count(?:y|ies)|cit(?:y|ies)|towns?|jails?|mayors|police|"
                             r"officers|deputies|law\s+enforcement|jurisdictions|communities|residents|immigrants|"
                             r"voters|farmers|businesses|employers|"
                             r"families|workers)\b")
_PLACE_NOUNS = re.compile(r"(?:other|population|economy|border|borders|residents|immigrants|immigrant|people|"
                          r"communities|counties|cities|towns|largest|biggest|second-largest|rural|farm|farms|farmers|"
                          r"workers|history|roads|streets|neighborhoods|schools|schoolchildren|universities|coast|land|"
                          r"Latino|Hispanic)\b")


_PARTY = re.compile(r"\s+(?:(?:Democratic|Republican|Libertarian|Green)\s+(?:Party|Committee)|Democrats|Republicans|"
                    r"GOP)\b")


def _consolidated(text: str, start: int, agency: Agency) -> tuple[int, Agency]:
    """A consolidated government keeps its double name ("Athens-Clarke County"), though its
    sheriff is the county's ("Clarke County Sheriff's Office")."""
    head = re.search(r"\b([A-Z][a-z]+)-$", text[max(0, start - 30):start])
    if not head:
        return start, agency
    return start - len(head.group()), replace(agency, name=f"{head.group(1)}-{agency.name}")


def _after_state_name(text: str, start: int) -> bool:
    words = re.search(r"([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s+$", text[max(0, start - 25):start])
    return bool(words) and any(gazetteer.state_named(w) for w in (words.group(1), words.group(1).split()[-1]))


def _preceded_by_federal(text: str, start: int) -> bool:
    return bool(re.search(r"(U\.S\.|federal|Federal)\s*$", text[max(0, start - 12):start]))


def _in_dateline(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    dateline = _DATELINE.match(text[line_start:start + 80])
    return bool(dateline) and start - line_start < dateline.end()


def _is_city_in(context: ArticleContext, name: str) -> bool:
    """"New York" in a story datelined NEW YORK is the city."""
    home = context.home_city
    return bool(home) and gazetteer.name_key(home.name) in (gazetteer.name_key(name), gazetteer.name_key(f"{name} City"))


def _city_place(context: ArticleContext, name: str, text: str, end: int, strict: bool = False):
    if gazetteer.state_named(name) and not _is_city_in(context, name):
        return None
    if context.county(name, None) and not (context.home_city and gazetteer.name_key(name) ==
                                           gazetteer.name_key(context.home_city.name)):
        return None  # "Prince William officials" are the county's
    explicit_state = context.state_after(text, end)
    if strict:
        # A possessive is a city only when the article is about its state: "Jackson's" is a person.
        codes = [explicit_state] if explicit_state else context.states[:2]
        for code in codes:
            found = gazetteer.places(name, code)
            if found and found[0].population >= 2_000:
                return found[0]
        if context.home_city and gazetteer.name_key(name) == gazetteer.name_key(context.home_city.name):
            return context.home_city
        return None
    return context.place(name, explicit_state)


def _county_agency(county: gazetteer.County, tail: str | None) -> Agency | None:
    if not tail:
        return None
    words = " ".join(tail.split())
    lowered = words.casefold()
    if "sheriff" in lowered or lowered == "deputies":
        return _sheriff(county)
    if "police" in lowered:
        return Agency(f"{county.full} Police Department", county.state, "police")
    if any(w in lowered for w in ("jail", "detention", "correction", "justice", "lockup")):
        own = "Jail" if lowered in ("jail", "lockup") else _title_case(words.title().replace("Of", "of"))
        return Agency(f"{county.full} {own}", county.state, "jail")
    return Agency(county.full, county.state, "county")


def _anaphora(text: str, offset: int, context: ArticleContext, taken: list[tuple[int, int]]) -> list[Agency]:
    found = []
    for start, end, agency in _leaning(text, offset, context):
        if not any(not (end <= a or start >= b) for a, b in taken):
            taken.append((start, end))
            found.append(agency)
    return found


def _leaning(text: str, offset: int, context: ArticleContext, kinds: tuple[str, ...] | None = None):
    """(start, end, agency) of each mention in `text` that leans on the article, by pattern order."""
    folded = text.casefold()
    for kind, pattern in _ANAPHORA_RE:
        if kinds and kind not in kinds or not any(needle in folded for needle in _NEEDLES[kind]):
            continue
        for match in pattern.finditer(text):
            start, end = offset + match.start(), offset + match.end()
            bare = re.fullmatch(r"[Tt]he\s+(?:county|city|town|state)", match.group())
            if kind in ("county", "city", "state") and bare:
                possessive = re.match(r"['’]s\s+", text[match.end():])
                if possessive and _PLACE_NOUNS.match(text, match.end() + possessive.end()) or \
                        not possessive and _after_location(text, match.start()):
                    continue  # "in the city", "the town's residents": a place, not its government
            if kind == "legislature":
                if not context.legislature or _ELSEWHERE.match(text, match.end()) or \
                        _NOT_THIS_LEGISLATURE.search(text[max(0, match.start() - 20):match.start()]):
                    continue
                # The article's own legislature, even just after another state was named.
                agency = context.main(("state",)) or context.refer("state", start)
            elif kind == "local police" and _after_state_name(text, match.start()):
                continue  # "Arizona police": a state's police in general
            elif kind == "act":
                agency = context.actor(start)
            elif kind == "corrections":
                agency = context.corrections(start, match.group("own") or "")
            elif kind == "enactment":
                noun = match.group("noun")
                if noun.startswith("law") and _LAW_IN_GENERAL.search(text[max(0, match.start() - 30):match.start()]):
                    continue
                whose = (match.group("whose") or "").strip().rstrip("'’s")
                agency = context.refer(whose, start) if whose else context.enactment(start, noun)
            else:
                agency = context.refer(kind, start)
            if agency:
                yield start, end, agency


def resolve_mentions(sentence: str, context: ArticleContext, speaker: str = "", position: int | None = None
                     ) -> list[Agency]:
    """The agencies one sentence of the article is about, each once, in order of mention.

    `position` is where the sentence starts in the article (found by `context.locate` when not
    given); `speaker` is who said it, when it is quoted speech ("Chief Buckner"), whose agency the
    sentence is about too ("our officers")."""
    if position is None:
        position = context.locate(sentence)
    end = position + len(sentence)
    if context.text[position:end] == sentence:  # found once for the whole article, in context
        mentions = [m for m in context.mentions if m.explicit and position <= m.start and m.end <= end]
    else:
        mentions = [m for m in context.settle_jails(_explicit(sentence, position, context)) if m.explicit]
    taken = [(m.start, m.end) for m in mentions]
    agencies = [m.agency for m in sorted(mentions, key=lambda m: m.start)]
    for match in _TITLE.finditer(sentence):
        start = position + match.start()
        inside = [m for m in mentions if m.start <= start < m.end + 1]
        if inside:
            taken.append((start, position + match.end()))
            continue
        agency = context._title_agency(match, sentence, position)
        if agency:
            taken.append((start, position + match.end()))
            agencies.append(agency)
    agencies.extend(_anaphora(sentence, position, context, taken))
    for match in re.finditer(r"\b[A-Z][a-z][\w\-]*(?:['’](?!s\b)[\w\-]+)?", sentence):
        start = position + match.start()
        if match.group() in context.people and not any(a <= start < b for a, b in taken) and \
                not re.match(r"\s+(?:County|Parish)", sentence[match.end():]):
            agencies.append(context.people[match.group()])
    pronoun = _PRONOUN.search(sentence)
    if pronoun and context.text[position:end] == sentence:
        agency = context.antecedent(position + pronoun.start())
        if agency:
            agencies.append(agency)
    if speaker:
        agencies.extend(resolve_mentions(speaker, context, position=position) if speaker != sentence else [])
    seen, unique = set(), []
    for agency in agencies:
        if agency not in seen:
            seen.add(agency)
            unique.append(agency)
    return unique


def resolve_name(name: str, state: str | None = None) -> Agency | None:
    """One agency for a name standing alone, as a roster lists it ("Colbert County Sheriff's
    Office", "Mesa Police Department"): the longest mention the resolver finds in it."""
    context = ArticleContext(name, state)
    mentions = [m for m in _explicit(name, 0, context) if m.explicit]
    if not mentions:
        return None
    return max(mentions, key=lambda m: m.end - m.start).agency
