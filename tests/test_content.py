"""The report's fixed content: design choices and the claims of section 5."""

from __future__ import annotations

from fmnist_report import models
from fmnist_report.report import content


def test_design_choices_start_with_the_measured_receptive_field_of_conv2():
    conv2 = models.receptive_fields(3)[2]
    assert conv2["layer"] == "conv2"
    choices = content.design_choices()
    size = conv2["receptive_field"]
    assert choices[0].startswith("3x3 kernels") and f"a patch of {size}x{size} input pixels" in choices[0]
    assert choices[1:] == list(content.DESIGN_CHOICES)


def test_each_claim_has_its_own_anchor():
    ids = [c.id for c in content.CLAIMS]
    assert len(set(ids)) == len(ids)  # the ids are the items' HTML anchors
