"""Which model a command runs: its own flags, else the library's chosen model, else the default.

``--model``/``--pretrained`` (or ``PHOTOSEEK_MODEL``/``PHOTOSEEK_PRETRAINED``)
name a model for one command. Without them, a command runs the model the
library answers with: the one ``photoseek model use`` (or the app's setting)
last switched it to, read from the catalog in a few milliseconds
(:func:`~photoseek.core.library.modelchoice.stored_choice`); a library that
never switched runs the default model.
"""

from __future__ import annotations

import argparse

from photoseek.core.library.modelchoice import ModelName, stored_choice
from photoseek.core.model.embedder import DEFAULT_ARCH, DEFAULT_PRETRAINED, ModelSettings
from photoseek.paths import resolve_paths


def named_model(args: argparse.Namespace) -> ModelName | None:
    """The model the command's flags (or environment) name, if they name one."""
    if args.model is None and args.pretrained is None:
        return None
    return ModelName(args.model or DEFAULT_ARCH, args.pretrained or DEFAULT_PRETRAINED)


def command_model(args: argparse.Namespace) -> ModelName:
    """The model this command runs."""
    named = named_model(args)
    if named is not None:
        return named
    chosen = stored_choice(resolve_paths(args.data_dir).catalog)
    return chosen or ModelName(DEFAULT_ARCH, DEFAULT_PRETRAINED)


def command_settings(args: argparse.Namespace) -> ModelSettings:
    """The command's model with its device and precision."""
    model = command_model(args)
    precision = getattr(args, "precision", "fp32")
    return ModelSettings(model.arch, model.pretrained, args.device, precision)
