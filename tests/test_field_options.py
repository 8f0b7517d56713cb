"""One mapping from dataclass fields to text: the command line's flags, `--set` and the
forms read values alike (model.field_text, kvae_studio.commands.field_options)."""

from __future__ import annotations

import dataclasses

import pytest

from kvae_studio.cli import build_parser
from kvae_studio.commands.field_options import given_fields
from model.config import KVAEConfig
from model.field_text import parse_text, show_text


@pytest.mark.parametrize(
    ("text", "default", "value"),
    [
        ("5", 3, 5),
        (" 1e-3 ", 0.5, 0.001),
        ("YES", False, True),
        ("off", True, False),
        ("16,8", (32, 32), (16, 8)),
        ("[8; 8 4]", (32,), (8, 8, 4)),
        ("3,1 1,15;8,30", ((0.0, 0.0),), ((3.0, 1.0), (1.0, 15.0), (8.0, 30.0))),
        ("gaussian", "bernoulli", "gaussian"),
    ],
)
def test_text_is_read_by_the_type_of_the_default(text, default, value):
    parsed = parse_text(text, default)
    assert parsed == value and type(parsed) is type(value)
    assert parse_text(show_text(parsed), default) == parsed  # and written back alike


@pytest.mark.parametrize(
    ("text", "default", "words"),
    [
        ("three", 3, "K must be a whole number, got 'three'"),
        ("2.5", 3, "whole number"),
        ("maybe", True, "yes or no"),
        ("a,b", (1,), "whole numbers separated by commas"),
        ("", (1,), "whole numbers"),
        ("3,1 1", ((0.0, 0.0),), "points 'COL,ROW"),
    ],
)
def test_text_that_is_no_value_is_one_line_naming_the_field(text, default, words):
    with pytest.raises(ValueError) as err:
        parse_text(text, default, "K")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_every_config_option_has_a_flag_that_means_what_set_means():
    """`train --K 2 --init-lr 0.003 --filters 8,8 --conv yes` = the same `--set`s."""
    parser = build_parser()
    flags = ["--K", "2", "--init-lr", "0.003", "--filters", "8,8", "--conv", "yes"]
    args = parser.parse_args(["train", "d.npz", "--out", "r", *flags])
    given = given_fields(args, "config_")  # typed as parsed: no text between
    assert given == {"K": 2, "init_lr": 0.003, "filters": (8, 8), "conv": True}
    by_set = ["K=2", "init_lr=0.003", "filters=8,8", "conv=true"]
    assert KVAEConfig().with_changes(given) == KVAEConfig().with_overrides(by_set)
    options = {a.dest for a in parser._subparsers._group_actions[0].choices["train"]._actions}
    missing = [
        f.name
        for f in dataclasses.fields(KVAEConfig)
        if f"config_{f.name}" not in options and f.name != "num_epochs"  # that is --epochs
    ]
    assert missing == []
