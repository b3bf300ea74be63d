"""Stage 1: read each source folder (archived text + facts.yaml) into a checked corpus."""

from toolkit.sources.loader import Corpus, Entity, Source, load_corpus

__all__ = ["Corpus", "Entity", "Source", "load_corpus"]
