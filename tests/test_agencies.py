"""The agency resolver, one row per kind of mention: (article, sentence number, expected agencies)."""

from __future__ import annotations

import pytest

from stance.agencies import ArticleContext, resolve_mentions, resolve_name
from stance.extract import extract_statements
from tests.conftest import AGENCIES, TEMPLATES

HARRIS = ("Harris County Sheriff's Office", "TX", "sheriff")
ETOWAH_JAIL = ("Etowah County Detention Center", "AL", "jail")
TEXAS = ("Texas", "TX", "state")
NEBRASKA = ("Nebraska", "NE", "state")
LVMPD = ("Las Vegas Metropolitan Police Department", "NV", "police")


def about(article: str, number: int, state: str | None = None) -> set[tuple[str, str, str]]:
    context = ArticleContext(article, state)
    statements = extract_statements(article)
    found = set()
    for i, (sentence, speaker) in enumerate(statements, start=1):
        agencies = resolve_mentions(sentence, context, speaker)  # in order, as track reads them
        if i == number:
            found = {(a.name, a.state, a.kind) for a in agencies}
    return found


CASES = [
    # Named outright; the dateline gives the state.
    ("HOUSTON, Texas — The Harris County Sheriff's Office will not honor detainers.", 1, None, {HARRIS}),
    # A surname that a title introduced stands for the agency.
    ("HOUSTON, Texas — Harris County Sheriff Ed Gonzalez spoke on Monday.\nGonzalez said he would not change course.",
     2, None, {HARRIS}),
    ("HOUSTON, Texas — Harris County Sheriff Ed Gonzalez spoke on Monday.\nSheriff Gonzalez will not hold anyone.",
     2, None, {HARRIS}),
    # "The sheriff" of an article that names only its county is that county's sheriff; so is "the
    # jail", an unnamed county jail being the sheriff's, who runs it.
    ("OCILLA, Ga. — Irwin County commissioners met on Tuesday.\nThe sheriff said the jail is full of ICE detainees.",
     2, None, {("Irwin County Sheriff's Office", "GA", "sheriff")}),
    ("NASHVILLE, Tenn. — Nashville's jail will keep honoring detainers.", 1, None, {("Nashville Jail", "TN", "jail")}),
    ("PRINCE WILLIAM COUNTY, Va. — The county board voted to check the status of every arrestee.", 1, None,
     {("Prince William County", "VA", "county")}),
    ("Prince William County will check the status of every arrestee, supervisors said.", 1, "VA",
     {("Prince William County", "VA", "county")}),
    ("Prince William County police will check the status of every arrestee.", 1, "VA",
     {("Prince William County Police Department", "VA", "police")}),
    # A county as a place is not an actor; federal agencies are not tracked.
    ("HOUSTON, Texas — ICE arrested 30 people in Harris County on Monday.", 1, None, set()),
    ("ICE and DHS said the Department of Homeland Security will expand its operations.", 1, "TX", set()),
    # The article's state decides which Lee County.
    ("FORT MYERS, Fla. — The Lee County Sheriff's Office signed a 287(g) agreement.", 1, None,
     {("Lee County Sheriff's Office", "FL", "sheriff")}),
    ("The Lee County Sheriff's Office signed a 287(g) agreement.", 1, "AL",
     {("Lee County Sheriff's Office", "AL", "sheriff")}),
    ("NEW ORLEANS — The Orleans Parish Sheriff's Office ended its agreement with ICE.", 1, None,
     {("Orleans Parish Sheriff's Office", "LA", "sheriff")}),
    # "The department" is the police or sheriff's office named before it, unless a federal one came between.
    ("DENVER — The Denver Police Department will not ask about status.\nThe department said officers will not hold anyone.",
     2, None, {("Denver Police Department", "CO", "police")}),
    ("DENVER — The Denver Police Department spoke.\nThe Department of Homeland Security said the department would respond.",
     2, None, set()),
    ("AUSTIN, Texas — Texas lawmakers passed a ban on sanctuary policies.", 1, None, {("Texas", "TX", "state")}),
    # A big city is known by name alone; St. and Saint are one name.
    ("The Denver police will not honor detainers, the chief said.", 1, None,
     {("Denver Police Department", "CO", "police")}),
    ("ST. PAUL, Minn. — The St. Paul Police Department will not ask about immigration status.", 1, None,
     {("Saint Paul Police Department", "MN", "police")}),
    ("LITTLE ROCK, Ark. — Mayor Mark Stodola said the city welcomes everyone.\nStodola said officers are not agents.",
     2, None, {("Little Rock", "AR", "city")}),
    ("SEATTLE — It rained in the city on Tuesday, residents said.", 1, None, set()),
    # A board and its members are the county government the article named.
    ("ARLINGTON, Va. — The Arlington board voted to leave Secure Communities.", 1, None,
     {("Arlington County", "VA", "county")}),
    ("The Prince William Board of County Supervisors met Tuesday.\nSupervisors voted to keep the policy.", 2, "VA",
     {("Prince William County", "VA", "county")}),
    # "County police" and its chief, in a county that has its own force.
    ("PRINCE WILLIAM COUNTY, Va. — County police will check status.\nPolice Chief Charlie Deane said officers are ready.",
     2, None, {("Prince William County Police Department", "VA", "police")}),
    # A list of governments, and the city as a place ("Los Angeles, California").
    ("CHICAGO — The suit targeted Illinois, Chicago and Cook County sanctuary laws.", 1, None,
     {("Illinois", "IL", "state"), ("Chicago", "IL", "city"), ("Cook County", "IL", "county")}),
    ("Los Angeles, California – The LAPD said it will not help deport anyone.", 1, None,
     {("Los Angeles Police Department", "CA", "police")}),
    ("WASHINGTON — The District will not honor detainers without a warrant.", 1, None, {("Washington", "DC", "city")}),
    # A consolidated government keeps its double name; its sheriff is the county's.
    ("ATHENS, Ga. — Athens-Clarke County commissioners voted to limit cooperation.", 1, None,
     {("Athens-Clarke County", "GA", "county")}),
    ("ATHENS, Ga. — Athens-Clarke County's attorneys advised the sheriff.", 1, None,
     {("Athens-Clarke County", "GA", "county"), ("Clarke County Sheriff's Office", "GA", "sheriff")}),
    ("TUCSON, Ariz. — The Pima County Democratic Party backed the measure.", 1, None, set()),
    # A jail by description is the jail the article names in its own words.
    ("GADSDEN, Ala. — The Etowah County Detention Center holds ICE detainees.\nThe Gadsden jail is full.", 2, None,
     {ETOWAH_JAIL}),
    ("GADSDEN, Ala. — The Etowah County Detention Center holds ICE detainees.\nEtowah County jail staff said so.", 2,
     None, {ETOWAH_JAIL}),
    # "The jail" is the article's own jail, not one it named in passing a paragraph earlier.
    ("GADSDEN, Ala. — The Etowah County Detention Center holds ICE detainees.\n"
     "ICE will also leave the Alamance County Detention Facility in Graham, N.C.\nIn 2016 the jail held 300 of them.",
     3, None, {ETOWAH_JAIL}),
    # ... unless it was named earlier in the same paragraph.
    ("GADSDEN, Ala. — The Etowah County Detention Center holds ICE detainees. ICE will also leave the Alamance "
     "County Detention Facility in Graham, N.C. The jail there held 300 of them.", 3, None,
     {("Alamance County Detention Facility", "NC", "jail")}),
    # The article's own county, of its state, over another state's named in passing.
    ("ARLINGTON, Va. — The Arlington County Board voted 5-0 to leave Secure Communities.\n"
     "Santa Clara County, Calif., took the same step.\nThe vote reflects the county's policy.", 3, None,
     {("Arlington County", "VA", "county")}),
    # The Clark County sheriff heads the Las Vegas Metropolitan Police Department: no separate office.
    ("LAS VEGAS — Clark County Sheriff Doug Gillespie limited ICE holds.\nThe sheriff said the department will "
     "keep working with ICE.", 2, None, {LVMPD}),
    ("LAS VEGAS — The Las Vegas Metropolitan Police Department limited ICE holds.", 1, None, {LVMPD}),
    # Titles of state legislators and leaders, council and board members; their surnames later.
    ("AUSTIN, Texas — Sen. Tommy Williams, R-The Woodlands, wrote the bill.\nWilliams said it was fair.", 2, None,
     {TEXAS}),
    ("NASHVILLE, Tenn. — Rep. Jay Reedy (R-Erin) sponsored the bill.\nReedy said it was fair.", 2, None,
     {("Tennessee", "TN", "state")}),
    ("LINCOLN, Neb. — Sen. Charlie Janssen of Fremont introduced LB 48.\nJanssen said it would pass.", 2, None,
     {("Nebraska", "NE", "state")}),
    ("AUSTIN, Texas — House Speaker Joe Straus spoke.\nStraus said the House would act.", 2, None, {TEXAS}),
    ("NEW YORK — Council Speaker Melissa Mark-Viverito spoke.\nMark-Viverito said cities must act.", 2, None,
     {("New York City", "NY", "city")}),
    ("ARLINGTON, Va. — The Arlington County Board voted.\nBoard member Walter Tejada said it was right.", 2, None,
     {("Arlington County", "VA", "county")}),
    # A county named just before, even as a place, is the one whose board is meant.
    ("ARLINGTON, Va. — The Arlington County Board voted. Advocates praised it over neighboring Prince William "
     "County. Prince William, under board Chairman Corey Stewart, cracked down.", 3, None,
     {("Prince William County", "VA", "county")}),
    # In Congress, not the state: "U.S. Rep.", or a legislator tagged with a state.
    ("GADSDEN, Ala. — Horton called U.S. Rep. Robert Aderholt (R-Haleyville).\nAderholt said no.", 2, None, set()),
    ("AUSTIN, Texas — Sen. Ted Cruz, R-Texas, spoke.\nCruz said no.", 2, None, set()),
    # A government's word is never a surname to bind: "Sen. Brenda Council" is no council.
    ("LINCOLN, Neb. — Sen. Brenda Council of Omaha filed a resolution.\nCritics answered Council on Tuesday.", 2,
     None, set()),
    # "He" and "she": the person the sentences before were about, when an official.
    ("SALT LAKE CITY — Salt Lake County Sheriff Jim Winder spoke Wednesday.\nWinder called a press conference after "
     "Trump signed his orders.\nHis office, he said, has been flooded with calls.", 3, None,
     {("Salt Lake County Sheriff's Office", "UT", "sheriff")}),
    ("SACRAMENTO, Calif. — Gov. Jerry Brown vetoed the bill.\nIn his veto message, Brown said the list was flawed.\n"
     "That list, in his telling, left out serious crimes.\nSheriffs, he wrote, ought to keep their discretion.", 4,
     None, {("California", "CA", "state")}),
    # ... not when someone else was named in between, nor "he or she" (anyone at all).
    ("LAS VEGAS — Sheriff Doug Gillespie announced the change.\nFatma Marouf, a professor, called the change a "
     "win.\nIt sends a message, she said, that victims can come forward.", 3, None, set()),
    ("LAS VEGAS — Sheriff Doug Gillespie announced the change.\nA detainer asks a jail to hold someone after he or "
     "she would go free.", 2, None, set()),
    ("NASHVILLE, Tenn. — The Nashville Metro Council voted 21-4.\nAt-large member Erica Gilmore filed it.", 2, None,
     {("Nashville", "TN", "city")}),
    # A state bill by its number is the state's; a number another state's name introduced stays that state's.
    ("LINCOLN, Neb. — LB 48 drew an overflow crowd.", 1, None, {NEBRASKA}),
    ("LINCOLN, Neb. — LB 48 is modeled on Arizona's SB 1070.\nSB 1070 was largely struck down.", 2, None,
     {("Arizona", "AZ", "state")}),
    # A chamber, its members and its session, in a story about a state legislature; not Congress.
    ("MADISON, Wis. — The Assembly passed Assembly Bill 450.\nThe Senate adjourned without a vote.", 2, None,
     {("Wisconsin", "WI", "state")}),
    ("MADISON, Wis. — The Assembly passed Assembly Bill 450.\nThe U.S. Senate adjourned without a vote.", 2, None,
     set()),
    ("DENVER — The Senate adjourned without a vote.", 1, None, set()),
    ("AUSTIN, Texas — Texas lawmakers passed SB 4 after Arizona's SB 1070 was struck down. All seven Hispanic "
     "senators spoke against it.", 2, None, {TEXAS}),
    ("SANTA FE, N.M. — The Legislature met on Monday.\nLawmakers around the country filed 1,400 bills.", 2, None,
     set()),
    # "The bill", "the law", "the ordinance": the government's own enactment.
    ("JEFFERSON CITY, Mo. — Gov. Matt Blunt signed House Bill 1549.\nThe package reaches beyond law enforcement.", 2,
     None, {("Missouri", "MO", "state")}),
    ("NEW YORK — The City Council passed two bills.\nThe new laws build on earlier ones.", 2, None,
     {("New York City", "NY", "city")}),
    ("ARLINGTON, Va. — The Arlington County Board passed a resolution.\nSan Francisco and Santa Clara County are "
     "pursuing ways out.\nThe vote drew dozens of supporters when the resolution passed.", 3, None,
     {("Arlington County", "VA", "county")}),
    # ... not law in general, nor law enforcement.
    ("AUSTIN, Texas — Gov. Greg Abbott signed SB 4.\nSheriffs are sworn to follow the law.", 2, None, set()),
    ("AUSTIN, Texas — Gov. Greg Abbott signed SB 4.\nThe law enforcement agencies disagreed.", 2, None, set()),
    # A state's name describing its places and people is not its government.
    ("TALLAHASSEE, Fla. — Florida sheriffs support ICE, and an Arizona-style crackdown is not coming.", 1, None,
     set()),
    ("LINCOLN, Neb. — Nebraska does not have Arizona's border problems.", 1, None, {NEBRASKA}),
    # A headline's bare "Sheriff"; "the office" after a sheriff's office.
    ("ICE leaves Etowah County jail\nSheriff says the decision caught his office off guard", 2, None,
     {("Etowah County Sheriff's Office", "AL", "sheriff")}),
    ("TALLAHASSEE, Fla. — The Leon County Sheriff's Office let the man go.\nOtherwise, the office alerts ICE.", 2,
     None, {("Leon County Sheriff's Office", "FL", "sheriff")}),
    # A city's or town's officers, council members and hall.
    ("FORT MYERS, Fla. — The City Council approved the agreement.\nUnder it, city officers could question people.",
     2, None, {("Fort Myers Police Department", "FL", "police")}),
    ("FORT MYERS, Fla. — The Fort Myers City Council met.\nThree council members switched their votes.", 2, None,
     {("Fort Myers", "FL", "city")}),
    ("MORRISTOWN, N.J. — Mayor Donald Cresitello signed the papers.\nThe plan drew a rally at Town Hall.", 2, None,
     {("Morristown", "NJ", "city")}),
    ("MORRISTOWN, N.J. — Mayor Donald Cresitello signed.\nAdvocates fear for the town's Latino residents.", 2, None,
     set()),
    # "State police": the state force the article names, else no one.
    ("WILDER, Idaho — Idaho State Police joined the operation.\nState police held everyone for hours.", 2, None,
     {("Idaho State Police", "ID", "police")}),
    ("WILDER, Idaho — State police held everyone for hours.", 1, None, set()),
    # A department of corrections by no one's name: that of the county or city the article is about.
    ("NEW YORK — Mayor Bill de Blasio signed the law.\nThe Department of Correction will not honor detainers.", 2,
     None, {("New York City Department of Correction", "NY", "jail")}),
    ("DOYLESTOWN, Pa. — Bucks County Sheriff Danny Ceisler ended the agreement.\nThe Department of Corrections "
     "will still share information.", 2, None, {("Bucks County Department of Corrections", "PA", "jail")}),
    ("PHOENIX — The Department of Corrections will comply.", 1, None, set()),
    ("PHOENIX — Advocates said county jails hold too many people.", 1, None, set()),
    # "Through the state's process" is the state's, though "through the state" would be a place.
    ("PHOENIX — Gov. Katie Hobbs vetoed SB 1164.\nEnforcement would have run through the state's process.", 2, None,
     {("Arizona", "AZ", "state")}),
    # Plain "police" and "deputies" in a story about one police department or sheriff's office ...
    ("PHILADELPHIA — The Philadelphia Police Department will not share its data.\nAdvocates said fear damages "
     "relations between police and the community.", 2, None, {("Philadelphia Police Department", "PA", "police")}),
    ("DOYLESTOWN, Pa. — Bucks County Sheriff Danny Ceisler spoke.\nDeputies will not ask victims about status.", 2,
     None, {("Bucks County Sheriff's Office", "PA", "sheriff")}),
    # ... not police in general, nor a state's police.
    ("LINCOLN, Neb. — Critics said requiring police to check status invites profiling.", 1, None, set()),
    ("TUCSON, Ariz. — The Tucson Police Department spoke.\nChief Chris Magnus said Arizona police must check status.", 2,
     None, {("Tucson Police Department", "AZ", "police")}),
    # A list of governments doing something; a city doing what a government does, not being a place.
    ("SANTA FE, N.M. — In 2007, Santa Fe, Albuquerque and Rio Arriba County adopted immigrant-friendly policies.", 1,
     None, {("Santa Fe", "NM", "city"), ("Albuquerque", "NM", "city"), ("Rio Arriba County", "NM", "county")}),
    ("MADISON, Wis. — The group has bases in Milwaukee, Madison and Racine.", 1, None, set()),
    ("TUCSON, Ariz. — Tucson is a sanctuary city in all but name.", 1, None, {("Tucson", "AZ", "city")}),
    ("TUCSON, Ariz. — Tucson is widely seen as the birthplace of the sanctuary movement.", 1, None, set()),
    ("SUMNER, Texas — Sumner has fewer than 100 residents.", 1, None, set()),
    # An agreement counts for its local party, a policy for the agency whose it is.
    ("PHILADELPHIA — Mayor Jim Kenney said the city will not renew its deal with ICE.\nICE said it never violated "
     "the terms of the agreement.", 2, None, {("Philadelphia", "PA", "city")}),
    ("TALLAHASSEE, Fla. — The Leon County Sheriff's Office let the man go. That policy allows a hold only with a "
     "judge's order.", 2, None, {("Leon County Sheriff's Office", "FL", "sheriff")}),
    # A legislator sits in the legislature of the hometown's state, whatever state was named just before.
    ("AUSTIN, Texas — The bill was modeled on Arizona's SB 1070. An amendment by Sen. Juan Hinojosa, D-McAllen, "
     "failed.", 2, None, {TEXAS}),
    # A place's residents are the place's, not its government's.
    ("ARLINGTON, Va. — More than a third of Arlington's residents are Hispanic.", 1, None, set()),
]


@pytest.mark.parametrize("article, number, state, expected", CASES)
def test_resolve_mentions(article, number, state, expected):
    assert about(article, number, state) == expected


@pytest.mark.parametrize("name, state, expected", [
    ("Colbert County Sheriff’s Office ", "AL", ("Colbert County Sheriff's Office", "AL", "sheriff")),
    ("Mesa Police Department", "AZ", ("Mesa Police Department", "AZ", "police")),
    ("City of Melbourne Police Department", "FL", ("Melbourne Police Department", "FL", "police")),
    ("Miami Dade Sheriff's Office", "FL", ("Miami-Dade County Sheriff's Office", "FL", "sheriff")),
    ("Florida Department of Corrections", "FL", ("Florida Department of Corrections", "FL", "jail")),
    ("Gulf County Board of County Commissioners", "FL", ("Gulf County", "FL", "county")),
])
def test_resolve_name_reads_roster_names(name, state, expected):
    agency = resolve_name(" ".join(name.replace("’", "'").split()), state)
    assert (agency.name, agency.state, agency.kind) == expected


def test_each_leaning_pattern_is_skipped_only_where_it_cannot_match():
    """A sentence skips a kind's pattern when it has none of the kind's words: every match must
    contain one."""
    from stance.agencies import _ANAPHORA_RE, _NEEDLES

    texts = [case[0] for case in CASES] + [template.format(a=a) for templates in TEMPLATES.values()
                                          for template in templates for a in AGENCIES]
    texts += ["The commissioners met.", "The supervisors voted.", "The board of county commissioners agreed."]
    for kind, pattern in _ANAPHORA_RE:
        for text in texts:
            for match in pattern.finditer(text):
                assert any(needle in match.group().casefold() for needle in _NEEDLES[kind]), (kind, match.group())
