"""Features that see direction: which words sit in the scope of a negation or a reversal.

"The county will honour detainers" and "the county will no longer honour detainers" share every
word n-gram but one, so a bag of n-grams reads them alike. `mark_scope` rewrites a sentence so
that each word after a negation ("not", "never", "won't") or a reversal ("ended", "withdrew",
"refused", "banned", "struck down") up to the end of its clause carries the prefix `not_`:

    the county will no longer not_honor not_detainers

A second cue inside a scope turns it off again, so "will not stop honouring detainers" leaves
"honouring detainers" unmarked: two negations cancel. A clause ends at punctuation or at a word
that turns the sentence ("but", "although", "while").

The word vectorizer of the pipeline takes `mark_scope` as its preprocessor, so training and
prediction can never disagree about it; the numpy predictor calls the same function. It must
stay a pure function of its input: a model records its `SCOPE_VERSION`, and any change to the
cues or the rules that moves a single token needs a new version (and retrained models).
"""

from __future__ import annotations

import re

SCOPE_VERSION = 1
PREFIX = "not_"


def _inflected(*stems: str) -> set[str]:
    """Each space-separated group lists a word and its inflections in full, so the cue set is
    plain data a set lookup checks."""
    return {word for group in stems for word in group.split()}


# Negations, and verbs (every inflection) that reverse, refuse or undo what follows them.
CUES = frozenset(_inflected(
    "not no never nor neither cannot without none nobody nothing unwilling instead rather against",
    "refuse refuses refused refusing refusal", "decline declines declined declining",
    "reject rejects rejected rejecting rejection", "end ends ended ending",
    "terminate terminates terminated terminating termination",
    "withdraw withdraws withdrew withdrawn withdrawing withdrawal",
    "cancel cancels canceled cancelled canceling cancelling cancellation",
    "rescind rescinds rescinded rescinding", "revoke revokes revoked revoking",
    "repeal repeals repealed repealing", "halt halts halted halting", "stop stops stopped stopping",
    "cease ceases ceased ceasing", "quit quits quitting", "exit exits exited exiting",
    "abandon abandons abandoned abandoning", "drop drops dropped dropping",
    "discontinue discontinues discontinued discontinuing", "suspend suspends suspended suspending suspension",
    "lapse lapses lapsed", "expire expires expired expiring", "veto vetoes vetoed vetoing",
    "ban bans banned banning", "bar bars barred barring", "prohibit prohibits prohibited prohibiting",
    "forbid forbids forbade forbidden forbidding", "block blocks blocked blocking",
    "restrict restricts restricted restricting", "limit limits limited limiting",
    "oppose opposes opposed opposing", "strike strikes struck striking", "fail fails failed failing",
    "refrain refrains refrained refraining", "sever severs severed severing", "scrap scraps scrapped scrapping",
))
# Words that turn a sentence: the clause after them starts outside any scope.
CLAUSE_TURNS = frozenset("but however although though while whereas yet unless except".split())
# Punctuation that ends a clause (parentheses do not: "287(g)" is one name).
_STOPS = frozenset(".,;:!?\"“”")
# Tokens as scikit-learn's default pattern finds them (two or more word characters), contractions
# ending in n't whole ("won't", "doesn’t": the vectorizer still reads them as "won", "doesn"), and
# the punctuation that ends a clause.
_SCAN = re.compile(r"\w\w+(?:(?<=n)['’]t\b)?|[.,;:!?\"“”]")


# What each special token does in the scan below; every other token is a plain word.
CUE, STOP, TURN, LONGER = "cue", "stop", "turn", "longer"
_KIND = {**dict.fromkeys(CUES, CUE), **dict.fromkeys(_STOPS, STOP), **dict.fromkeys(CLAUSE_TURNS, TURN),
         "longer": LONGER}


def scan(low: str) -> list[tuple[str, str]]:
    """Every token of lower-cased text with its kind (cue, stop, turn, longer or None for a plain
    word), in order: what `mark_scope` reads, for code that applies the same rules to many texts
    at once (the numpy predictor's batches). Tokens never span white space, so the scan of a text
    is the scans of its white-space pieces end to end."""
    return [(_kind(token), token) for token in _SCAN.findall(low)]


def _kind(token: str) -> str | None:
    return _KIND.get(token) or (CUE if token[-2:] in ("'t", "’t") else None)


def _cued_tokens(low: str) -> list[str] | None:
    """The scan of lower-cased text, or None when it holds no cue."""
    tokens = _SCAN.findall(low)
    if CUES.isdisjoint(tokens) and "n't" not in low and "n’t" not in low:
        return None
    return tokens


def mark_scope(text: str) -> str:
    """Lower-case `text`; when it holds a cue, return its tokens with every word in a cue's scope
    prefixed by `not_` (punctuation dropped, which word n-grams ignore anyway)."""
    low = text.lower()
    tokens = _cued_tokens(low)
    if tokens is None:
        return low  # most sentences: nothing to mark, and the same tokens either way
    out: list[str] = []
    append = out.append
    negated = False
    for token in tokens:
        kind = _kind(token)
        if kind is None:
            append(PREFIX + token if negated else token)
        elif kind is STOP:
            negated = False  # punctuation is dropped
        elif kind is TURN:
            negated = False
            append(token)
        elif kind is LONGER and out and out[-1] == "no":
            append(token)  # "no longer" is one cue, already counted
        elif kind is LONGER:
            append(PREFIX + token if negated else token)
        else:
            negated = not negated
            append(token)
    return " ".join(out)


def readable(term: str) -> str:
    """A word n-gram as people read it: `not_honor not_detainers` becomes `¬honor ¬detainers`."""
    return " ".join("¬" + t[len(PREFIX):] if t.startswith(PREFIX) else t for t in term.split(" "))
