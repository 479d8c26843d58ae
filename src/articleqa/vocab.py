"""Word lists: one place for the English words the readers, BM25, answers and follow-ups know.

Lists of the same kind stand together here. Where two stages read words of the same kind
differently (the speech verbs of an article's sentences and of a question), each list says
what it is for; making such lists one would change which sentences and questions match, so
that is left to changes that measure it on the eval set.
"""

from __future__ import annotations

#: Common English words, left out of BM25 terms (and, in questions, never taken for names).
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during each
    else few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves said say says saying tell told according""".split()
)

#: Auxiliary verbs: "did", "has", "will" ... before the subject of a question.
AUXILIARIES = frozenset("""did does do is was are were has have had will would can could should
    may might must shall""".split())
#: Words that open a question without changing what it asks ("And who came second?", "So,
#: what else?").
CONNECTIVES = ("and", "but", "so", "also", "ok", "okay", "well", "then", "now", "right")

# -- calendar ---------------------------------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip

# -- speech -----------------------------------------------------------------------------------

#: Verbs that introduce reported speech in an article's sentences ("Hammouchi said", "He
#: stressed that"), every form that occurs.
SPEECH_VERBS = (
    "said", "says", "say", "added", "adds", "told", "tells", "stressed", "stresses",
    "explained", "explains", "continued", "praised", "noted", "argued", "warned", "insisted",
    "claimed", "believes", "believed", "pointed out", "emphasised", "emphasized", "described",
    "called", "urged", "admitted", "revealed", "announced", "suggested", "maintained",
    "acknowledged", "declared", "commented", "replied", "asked", "wrote", "think", "thinks",
    "thought", "reckons", "feel", "feels", "felt", "pledged", "pledges", "vowed", "vows",
    "promised", "promises",
)
#: Verbs with which a question asks for someone's words: "What did Hammouchi say ...",
#: "What does the chancellor think ..." (who is asked about; see ``answering.question_speaker``).
QUESTION_SPEECH_VERBS = (
    "say", "said", "tell", "told", "think", "thought", "believe", "feel", "argue", "claim", "warn",
    "reveal", "admit", "stress", "explain", "praise", "describe", "call", "urge", "suggest",
    "announce", "mean", "want",
)
#: Verbs whose subject, in a question, is a person ("did Jobs promise ...") and after which a
#: follow-up's "about ..." topic is added (follow-up resolution). Wider than
#: :data:`QUESTION_SPEECH_VERBS` ("promise", "expect", "respond", ...) and without "stress"
#: and "urge"; the follow-up rules were tuned with this list.
SUBJECT_SPEECH_VERBS = frozenset("""say said says tell told think thought believe feel felt
    promise promised call called claim argue warn admit deny reveal describe predict insist mean
    want suggest announce tip expect hope defend explain respond react criticise criticize
    praise""".split())
#: Verbs after which an earlier reply names its speaker ("..., Hammouchi said:"); a subset of
#: :data:`SPEECH_VERBS`. Follow-ups read it so from a reply's quotes, and from its text when the
#: conversation does not carry the earlier :class:`~articleqa.answering.Answer`.
REPLY_SPEECH_VERBS = ("said", "says", "told", "added", "stressed", "explained", "argued",
                      "warned", "insisted", "claimed", "noted")
#: Verbs of business news whose subject is an organisation or a person ("did Sony make ...").
BUSINESS_VERBS = frozenset("""make made pay paid earn earned buy bought sell sold acquire
    acquired report reported post posted merge merged invest invested employ""".split())

# -- people and organisations -----------------------------------------------------------------

#: Roles and descriptions of a person ("the chancellor", "the Fiat chief executive"), longest
#: first so that "prime minister" is found before "minister".
PERSON_ROLES = sorted((role.strip() for role in """prime minister|chief executive|
    chief executive officer|finance minister|foreign minister|home secretary|foreign secretary|
    director general|secretary general|police chief|managing director|chancellor|president|
    minister|premier|
    secretary|executive|chief|boss|chairman|chairwoman|chairperson|head|leader|manager|coach|
    captain|skipper|spokesman|spokeswoman|spokesperson|director|governor|mayor|editor|judge|
    founder|owner|striker|forward|midfielder|defender|goalkeeper|footballer|cricketer|golfer|
    boxer|jockey|referee|player|singer|songwriter|musician|composer|rapper|actor|actress|star|
    comedian|presenter|author|writer|novelist|poet|artist|king|queen|prince|princess|pope|
    ambassador|commissioner|lawyer|producer|analyst|economist|professor|scientist|doctor|
    senator|candidate|champion|athlete|runner|driver|prosecutor|envoy|official|officer|
    commander|general|chef|designer|inventor|host|businessman|businesswoman|entrepreneur|
    tycoon|billionaire|man|woman|boy|girl|father|mother|son|daughter|husband|wife|victim|
    suspect|defendant""".split("|")), key=len, reverse=True)
#: Roles that can stand before a name as a title ("director Mark Rothemond"); not those that
#: are also verbs ("would judge Lit Idol").
TITLE_ROLES = frozenset(PERSON_ROLES) - frozenset(
    "judge host star head coach captain skipper chair general official man".split())
#: Titles that a question's generic "head" (of an organisation) stands for: "the head of the
#: Greek athletics federation" is its "boss", Morocco's "head of national security" its
#: "Director General of National Security".
HEAD_TITLES = ("head", "boss", "chief", "chairman", "chairwoman", "president", "director",
               "director general", "leader")
#: The roles (of :data:`PERSON_ROLES`) that, opening a sentence as "The ... <role>" ("The
#: Director General explained"), go on with the words of the speaker before them.
SPEAKER_ROLES = ("official", "minister", "director", "chief", "chairman", "president", "manager",
                 "boss", "spokesman", "spokeswoman", "spokesperson", "head", "leader")
#: Offices a question can ask the holder of ("Who is the coach of Hapoel Bnei Sakhnin?"), each
#: with the words an article may give it by: a reply must name someone by one of them.
OFFICES = {office: frozenset(words.split(",")) | {office} for office, words in (
    line.strip().split(": ") for line in """chief executive: chief executive officer,ceo,boss,chief
    managing director: boss,chief,head
    director general: director-general,head,chief
    secretary general: secretary-general,head,chief
    prime minister: pm,premier
    president: head,chief
    chairman: chairwoman,chairperson,chair,boss
    manager: boss,coach
    coach: manager,boss,trainer
    captain: skipper
    mayor: mayoral
    governor: head
    ambassador: envoy
    spokesman: spokeswoman,spokesperson,spokesmen
    editor: head,chief
    director: head,chief
    commissioner: head,chief
    referee: official""".splitlines())}
#: Words before a name that make it a person's: "Mr", "Dr", "President", "Prime Minister".
TITLES = frozenset("""mr mrs ms miss dr sir lord lady dame president prime minister king queen
    prince princess pope chancellor senator general judge professor prof rev saint st
    chairman""".split())
#: Nouns for an organisation that "the <noun>" points back at ("the company", "the club").
ORGANISATION_NOUNS = (
    "company", "firm", "group", "club", "team", "side", "bank", "band", "carrier", "airline",
    "broadcaster", "network", "retailer", "chain", "giant", "maker", "insurer", "operator",
    "organisation", "organization", "agency", "party", "union", "league", "federation",
    "association", "competition", "label", "publisher", "studio",
)
#: Words inside a name that make it an event's ("the Academy Awards", "the Harbour Cup"): "they"
#: may stand for it, "he", "she" and "the club" may not.
EVENT_WORDS = frozenset("""awards award prize prizes cup games olympics championship
    championships open festival ceremony trophy tournament marathon election elections summit
    conference expo oscars grammys baftas concert gala derby""".split())
#: Words inside a name that make it an organisation's ("Time Warner Inc", "Bank of Scotland").
ORGANISATION_WORDS = frozenset("""inc corp corporation co ltd plc llc group bank company
    holdings airlines airways motors police ministry department council association federation
    union party club fc united city rovers athletics agency commission institute university
    records studios entertainment media telecom communications systems technologies
    electronics software network news times fund organisation organization league committee
    court government parliament assembly insurance capital partners foods energy oil
    petroleum""".split())

#: Names that stand for one another in a question and an article: a country, its people's
#: adjective and its short forms ("English clubs" in an article on England's clubs; "the PM").
#: One group a line, comma-separated.
NAME_EQUIVALENTS = tuple(tuple(name.strip() for name in line.split(","))
                         for line in """england, english
    britain, british, britons, uk, united kingdom
    scotland, scottish, scots
    wales, welsh
    ireland, irish
    france, french
    germany, german, germans
    italy, italian, italians
    spain, spanish
    america, american, americans, us, usa, united states
    china, chinese
    japan, japanese
    russia, russian, russians
    india, indian, indians
    pakistan, pakistani, pakistanis
    australia, australian, australians
    canada, canadian, canadians
    europe, european, europeans, eu, european union
    africa, african, africans
    south africa, south african, south africans
    netherlands, dutch, holland
    greece, greek, greeks
    turkey, turkish, turks
    israel, israeli, israelis
    iran, iranian, iranians
    iraq, iraqi, iraqis
    brazil, brazilian, brazilians
    mexico, mexican, mexicans
    sweden, swedish, swedes
    norway, norwegian, norwegians
    denmark, danish, danes
    poland, polish, poles
    portugal, portuguese
    kenya, kenyan, kenyans
    nigeria, nigerian, nigerians
    egypt, egyptian, egyptians
    morocco, moroccan, moroccans
    ukraine, ukrainian, ukrainians
    korea, korean, koreans
    switzerland, swiss
    belgium, belgian, belgians
    austria, austrian, austrians
    argentina, argentine, argentinian, argentinians
    pm, prime minister""".splitlines())
