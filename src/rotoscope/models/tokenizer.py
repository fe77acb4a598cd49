"""A byte-level CLIP tokenizer written by code (no download).

The vocabulary is the 256 byte symbols of GPT-2/CLIP byte-level BPE, their
end-of-word (``</w>``) forms and the two CLIP special tokens; there are no
merges, so every byte of a word is one token. Enough for tiny test models.
"""

from __future__ import annotations

from functools import lru_cache

START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"
MODEL_MAX_LENGTH = 77


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """The byte → printable-character table of GPT-2 / CLIP byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def byte_vocab() -> dict[str, int]:
    """Token → id: 256 bytes, 256 ``</w>`` forms, start and end tokens (514 in all)."""
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + [START_TOKEN, END_TOKEN]
    return {tok: i for i, tok in enumerate(tokens)}


VOCAB_SIZE = len(byte_vocab())


def build_byte_tokenizer():
    """A ``CLIPTokenizer`` over the byte vocabulary (``save_pretrained`` writes its files)."""
    from transformers import CLIPTokenizer

    return CLIPTokenizer(
        vocab=byte_vocab(),
        merges=[],
        model_max_length=MODEL_MAX_LENGTH,
        bos_token=START_TOKEN,
        eos_token=END_TOKEN,
        unk_token=END_TOKEN,
        pad_token=END_TOKEN,
    )
