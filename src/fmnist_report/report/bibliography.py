"""The works behind the report's data and methods, as BibTeX (``references.bib``) and as a paragraph.

Each entry names what the report uses it for, so the "how to cite" paragraph and the file
are written from one list, and a method the report adds is one entry more.
"""

from __future__ import annotations

from dataclasses import dataclass

from fmnist_report.report.formatting import join_words

#: The file written beside the report.
BIB_FILE = "references.bib"


@dataclass(frozen=True)
class Work:
    """One cited work: its BibTeX key, type and fields, and what the report uses it for."""

    key: str
    kind: str
    fields: tuple[tuple[str, str], ...]
    used_for: str

    def bibtex(self) -> str:
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in self.fields)
        return f"@{self.kind}{{{self.key},\n{body}\n}}\n"

    @property
    def short(self) -> str:
        """``Xiao et al. (2017)``: the first author's surname, et al. for more than two, and the year."""
        authors = dict(self.fields)["author"].split(" and ")
        surname = authors[0].split(",")[0]
        if len(authors) == 2:
            surname += " and " + authors[1].split(",")[0]
        elif len(authors) > 2:
            surname += " et al."
        return f"{surname} ({dict(self.fields)['year']})"


WORKS: tuple[Work, ...] = (
    Work(
        "xiao2017fashion",
        "misc",
        (
            ("author", "Xiao, Han and Rasul, Kashif and Vollgraf, Roland"),
            ("title", "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms"),
            ("year", "2017"),
            ("eprint", "1708.07747"),
            ("archivePrefix", "arXiv"),
            ("url", "https://arxiv.org/abs/1708.07747"),
        ),
        "the data set",
    ),
    Work(
        "mcnemar1947",
        "article",
        (
            ("author", "McNemar, Quinn"),
            (
                "title",
                "Note on the sampling error of the difference between correlated proportions or percentages",
            ),
            ("journal", "Psychometrika"),
            ("volume", "12"),
            ("number", "2"),
            ("pages", "153--157"),
            ("year", "1947"),
            ("doi", "10.1007/BF02295996"),
        ),
        "McNemar's exact test of two models' paired test predictions",
    ),
    Work(
        "dietterich1998",
        "article",
        (
            ("author", "Dietterich, Thomas G."),
            (
                "title",
                "Approximate Statistical Tests for Comparing Supervised Classification Learning Algorithms",
            ),
            ("journal", "Neural Computation"),
            ("volume", "10"),
            ("number", "7"),
            ("pages", "1895--1923"),
            ("year", "1998"),
            ("doi", "10.1162/089976698300017197"),
        ),
        "the choice of McNemar's test for comparing two classifiers on one test set",
    ),
    Work(
        "holm1979",
        "article",
        (
            ("author", "Holm, Sture"),
            ("title", "A Simple Sequentially Rejective Multiple Test Procedure"),
            ("journal", "Scandinavian Journal of Statistics"),
            ("volume", "6"),
            ("number", "2"),
            ("pages", "65--70"),
            ("year", "1979"),
        ),
        "Holm's step-down correction within each family of comparisons",
    ),
    Work(
        "student1908",
        "article",
        (
            ("author", "Student"),
            ("title", "The Probable Error of a Mean"),
            ("journal", "Biometrika"),
            ("volume", "6"),
            ("number", "1"),
            ("pages", "1--25"),
            ("year", "1908"),
            ("doi", "10.1093/biomet/6.1.1"),
        ),
        "the Student-t intervals over training seeds",
    ),
    Work(
        "colas2018seeds",
        "misc",
        (
            ("author", "Colas, C{\\'e}dric and Sigaud, Olivier and Oudeyer, Pierre-Yves"),
            (
                "title",
                "How Many Random Seeds? Statistical Power Analysis in Deep Reinforcement Learning Experiments",
            ),
            ("year", "2018"),
            ("eprint", "1806.08295"),
            ("archivePrefix", "arXiv"),
            ("url", "https://arxiv.org/abs/1806.08295"),
        ),
        "repeating every training run over several seeds before comparing",
    ),
    Work(
        "guo2017calibration",
        "inproceedings",
        (
            ("author", "Guo, Chuan and Pleiss, Geoff and Sun, Yu and Weinberger, Kilian Q."),
            ("title", "On Calibration of Modern Neural Networks"),
            ("booktitle", "Proceedings of the 34th International Conference on Machine Learning"),
            ("pages", "1321--1330"),
            ("year", "2017"),
        ),
        "the expected calibration error and the reliability diagrams",
    ),
    Work(
        "simonyan2014saliency",
        "misc",
        (
            ("author", "Simonyan, Karen and Vedaldi, Andrea and Zisserman, Andrew"),
            (
                "title",
                "Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps",
            ),
            ("year", "2014"),
            ("eprint", "1312.6034"),
            ("archivePrefix", "arXiv"),
            ("url", "https://arxiv.org/abs/1312.6034"),
        ),
        "the gradient saliency maps",
    ),
)


def bibtex(works: tuple[Work, ...] = WORKS) -> str:
    """``references.bib``: every work, one BibTeX entry each."""
    header = "% The works behind the data and methods of this fmnist-report build.\n\n"
    return header + "\n".join(w.bibtex() for w in works)


def how_to_cite(works: tuple[Work, ...] = WORKS) -> str:
    """The "How to cite this report's methods" paragraph: each work, what it is cited for, and its key."""
    uses = [f"{w.short} for {w.used_for} ({w.key})" for w in works]
    return (
        f"A text that uses this report's numbers should cite {join_words(uses)}. The BibTeX entries, "
        f"under the keys in parentheses, are in {BIB_FILE} beside the report."
    )
