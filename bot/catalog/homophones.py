"""Words misspelt by their sound, heard as the known words they sound like (底保 → 低保, 律施 → 律师).

With pypinyin where it is installed; without it nothing is heard. What is heard is added to the
question by the search (``bot.catalog.search``), never put in place of what was said.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

import jieba

from bot.catalog.retrieval import STOPWORDS, WEAK_CHARS, jieba_tokenizer

# Characters that are a word of their own in almost every sentence that has them: the request's (上办 is
# no 上班) and negations (不亮 is no 不良); a piece with one is never heard as a known word.
_OWN_WORDS = frozenset("办弄搞不没")
# A piece is heard as a known word only when jieba's frequencies make the word at least e**3 (twenty)
# times likelier than the characters typed, read as separate words (底/保 against 低保; not 叫/人 against
# 交人). On the project's own citizen messages (data/nlu, data/appeals: 6,949 sentences, none of the
# evaluation's) a word is heard in 48 sentences instead of 88, most of them wrongly (灯不亮了 has no
# 不良 since _OWN_WORDS; 饭点 still gives 饭店): what is heard is added, so a wrong one costs a term.
# On the dev questions 12 are heard, all rightly; any threshold from 0 to 4 ranks dev alike.
HEARD_ODDS = 3.0
# How a text sounds: its syllables without tones, separated by spaces ("底保" → "di bao").
Reading = Callable[[str], str]


def pinyin_reading() -> Reading | None:
    """How pypinyin reads a text (syllables without tones), or None where pypinyin is not installed."""
    try:
        from pypinyin import lazy_pinyin  # here, not at import time: it loads its dictionaries
    except ImportError:
        return None
    return lambda text: " ".join(lazy_pinyin(text))


class Homophones:
    """Known words by their sound: a word misspelt by its sound (底保, 律施) is heard as the word (低保, 律师).

    Only pieces of a question that are no word of their own are heard: runs of whole jieba words (two to
    four characters) with a character jieba could not join into a word (底/保 of 底保), that sound exactly
    like one known word and like no other, differ from it by one character (微信上 is not 微欣赏, though
    信上 sounds like 欣赏), and are much likelier that word than what was typed (``HEARD_ODDS``). 事业
    stays 事业 (a word) and would not become 失业 either (a sound two known words share). What is heard
    is added to the question, never put in place of what was said: a piece heard wrong costs one term.
    """

    def __init__(self, words: Iterable[str], reading: Reading) -> None:
        self._reading = reading
        by_sound: dict[str, set[str]] = defaultdict(set)
        for word in words:
            if 2 <= len(word) <= 4 and all("\u4e00" <= character <= "\u9fff" for character in word):
                by_sound[reading(word)].add(word)
        self._words = {sound: next(iter(words)) for sound, words in by_sound.items() if len(words) == 1}
        self._known = frozenset(word for words in by_sound.values() for word in words)

    def hear(self, text: str) -> list[str]:
        """The known words that pieces of the (cleaned) text only sound like, in the order said."""
        return [word for _, word in self.pieces(text)]

    def pieces(self, text: str) -> list[tuple[str, str]]:
        """The pieces of the (cleaned) text heard as known words, each with the word (底保, 低保), in the order said."""
        tokenizer = jieba_tokenizer()
        words = tokenizer.lcut(text, HMM=False)
        heard, start = [], 0
        while start < len(words):
            size = self._heard_size(words, start, tokenizer)
            if size:
                piece = "".join(words[start : start + size])
                heard.append((piece, self._words[self._reading(piece)]))
                start += size
            else:
                start += 1
        return heard

    def _heard_size(self, words: list[str], start: int, tokenizer: jieba.Tokenizer) -> int:
        """How many words from ``start`` sound like one known word (0: none do), longest first."""
        for end in range(min(len(words), start + 4), start + 1, -1):
            run = words[start:end]
            piece = "".join(run)
            lonely = any(len(w) == 1 and w not in WEAK_CHARS for w in run)
            # Characters jieba has never seen as words are dialect (啲, 搵, 咗), not slips of an input method.
            common = all(tokenizer.FREQ.get(character) for character in piece)
            if (
                2 <= len(piece) <= 4
                and lonely
                and common
                and not any(w in STOPWORDS or w in WEAK_CHARS or w in _OWN_WORDS for w in run)
                and not tokenizer.FREQ.get(piece)
                and piece not in self._known
                and self._reading(piece) in self._words
                and _one_character_apart(piece, self._words[self._reading(piece)])
                and _odds(self._words[self._reading(piece)], run, tokenizer) >= HEARD_ODDS
            ):
                return end - start
        return 0


def _odds(word: str, said: list[str], tokenizer: jieba.Tokenizer) -> float:
    """How much likelier ``word`` is than the words said, by jieba's word frequencies (natural log)."""

    def log_share(w: str) -> float:
        return math.log((tokenizer.FREQ.get(w) or 1) / tokenizer.total)

    return log_share(word) - sum(log_share(w) for w in said)


def _one_character_apart(said: str, word: str) -> bool:
    """Whether ``said`` is ``word`` with one character replaced (a slip of the input method, not another word)."""
    return len(said) == len(word) and sum(a != b for a, b in zip(said, word, strict=True)) == 1
