"""The numbers a report prints and their places, matched against a PDF's text layer."""

from __future__ import annotations

from fmnist_report.report import printed

HTML = """<html><head><title>Report 2026</title><style>p { margin: 12px }</style></head><body>
<h1>Exploring 3 layers</h1>
<h2><span class="secnum">2</span> Dense baseline</h2>
<p>The Dense network reaches 76.40% on 1,000 test images (p = 0.0019).</p>
<h3>Accuracy per class</h3>
<table><caption>Dense: test accuracy per class, mean over seeds</caption>
<thead><tr><th>Class</th><th>Accuracy</th><th>Errors</th></tr></thead>
<tbody><tr><td>Shirt</td><td>25.00%</td><td>75</td></tr>
<tr><td>Coat</td><td>-3.5</td><td>12</td></tr></tbody></table>
<figure><img alt="a plot of 7 curves"><figcaption>30.0% of Coat images are read as Pullover.</figcaption></figure>
<h2><span class="secnum">A</span> Appendix: reproducibility</h2>
<p>Seeds 0, 1 and 2.</p>
</body></html>"""


def texts(found):
    return [p.text for p in found]


def test_every_visible_number_is_found_in_reading_order_and_nothing_hidden():
    found = printed.expected(HTML)
    # The title element, the style sheet and the alt text print nothing; the h1 does.
    assert texts(found) == [
        "3",
        "2",
        "76.40%",
        "1,000",
        "0.0019",
        "25.00%",
        "75",
        "-3.5",
        "12",
        "30.0%",
        "0",
        "1",
        "2",
    ]


def test_each_number_is_named_by_its_section_heading_table_row_and_column():
    places = {p.text: p.place for p in printed.expected(HTML)}
    assert places["76.40%"] == "section 2, Dense baseline"
    assert places["25.00%"] == (
        "section 2, Dense baseline, Accuracy per class, Dense: test accuracy per class, mean ..., Shirt, Accuracy"
    )
    assert places["12"] == (
        "section 2, Dense baseline, Accuracy per class, Dense: test accuracy per class, mean ..., Coat, Errors"
    )
    assert places["30.0%"] == "section 2, Dense baseline, Accuracy per class, figure caption"
    assert places["1"] == "section A, Appendix: reproducibility"
    assert places["3"] == "the title page"


def test_a_pdf_with_the_same_numbers_and_page_furniture_checks_every_number():
    want = printed.expected(HTML)
    # pdftotext: pages split by form feeds, "Page x of y" and the counters the layout adds.
    text = (
        "Exploring 3 layers Page 1 of 2\f2 Dense baseline The Dense network reaches 76.40% on 1,000 test "
        "images (p = 0.0019). Table 1. Dense: test accuracy per class Shirt 25.00% 75 Coat -3.5 12 "
        "Figure 1. 30.0% of Coat images are read as Pullover. A Appendix: reproducibility Seeds 0, 1 "
        "and 2. Page 2 of 2"
    )
    outcome = printed.compare(want, printed.on_pages(text))
    assert (outcome.checked, outcome.expected, outcome.first) == (13, 13, None)
    assert outcome.furniture == 6  # "Page 1 of 2", "Table 1.", "Figure 1.", "Page 2 of 2"


def test_an_edited_number_is_the_first_difference_with_its_page_and_place():
    want = printed.expected(HTML)
    text = (
        "Exploring 3 layers\f2 Dense baseline The Dense network reaches 76.40% on 1,000 test images "
        "(p = 0.0019). Shirt 35.00% 75 Coat -3.5 12 30.0% of Coat images. A Appendix Seeds 0, 1 and 2."
    )
    outcome = printed.compare(want, printed.on_pages(text))
    assert outcome.checked == 12
    assert outcome.first.describe() == (
        "page 2, section 2, Dense baseline, Accuracy per class, Dense: test accuracy per class, mean ..., "
        "Shirt, Accuracy: the data gives 25.00%, the PDF prints 35.00%"
    )


def test_a_negated_sign_a_missing_number_and_an_added_one_are_differences():
    want = printed.expected(HTML)
    base = (
        "Exploring 3 layers 2 Dense baseline reaches 76.40% on 1,000 (p = 0.0019). Shirt 25.00% 75 "
        "Coat {coat} 12 30.0% of Coat. A Seeds 0, 1 and 2."
    )
    negated = printed.compare(want, printed.on_pages(base.format(coat="3.5")))
    assert negated.first.describe().endswith("Coat, Accuracy: the data gives -3.5, the PDF prints 3.5")
    missing = printed.compare(want, printed.on_pages(base.format(coat="")))
    assert missing.first.describe().endswith("Coat, Accuracy: the data gives -3.5, the PDF does not print it")
    added = printed.compare(want, printed.on_pages(base.format(coat="-3.5 (or 4.25%)")))
    assert added.first is not None
    assert added.first.printed == "4.25%" and added.first.expected is None
    assert "the PDF prints 4.25%, a number the data does not give" in added.first.describe()


def test_a_number_after_a_table_is_placed_by_its_heading_alone():
    html = (
        "<h2>3 Convolutional network</h2><h3>Against the baseline</h3><table><caption>Costs</caption>"
        "<thead><tr><th>Model</th><th>Latency</th></tr></thead><tr><td>CNN</td><td>0.25</td></tr></table>"
        "<p>McNemar p = 0.0019.</p>"
    )
    assert [(p.text, p.place) for p in printed.expected(html)] == [
        ("3", "section 3, Convolutional network"),
        ("0.25", "section 3, Convolutional network, Against the baseline, Costs, CNN, Latency"),
        ("0.0019", "section 3, Convolutional network, Against the baseline"),
    ]
