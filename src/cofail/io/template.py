"""The commented YAML template that ``cofail init`` writes."""

from __future__ import annotations

__all__ = ["TEMPLATE"]

TEMPLATE = """\
# A cofail vulnerability matrix. Check it with:  cofail validate THIS_FILE
# Use it with any analysis:                     cofail audit --matrix THIS_FILE --stack all
cofail: 1                 # file format version
id: my-stack              # a short id for this matrix
title: "My deployment's safety layers"
version: "1"              # bump whenever a judgement changes
description: >-
  What the layers are, who judged them, and when.

# Failure modes: conditions under which a layer may fail to provide safety.
# Ids: letters, digits, _ . - (no spaces or commas); they are used on the command line.
failure_modes:
  - id: JAILBREAK
    name: adversarial jailbreak
    description: A crafted prompt makes the layer pass harmful content.
  - id: DIST-SHIFT
    name: distribution shift
    description: Inputs unlike anything the layer was built or trained on.

# Layers: the safety mechanisms you may stack.
# safety_tax: low | moderate | high  (tax_cost: a number overrides the default cost 1 / 2 / 4)
layers:
  - id: INPUT-FILTER
    name: Input classifier
    family: classifier
    safety_tax: low
  - id: REFUSAL
    name: Refusal training
    family: learning from feedback
    safety_tax: low

# Cells: one per layer and failure mode.
#   level: V (vulnerable) | N (not vulnerable) | U (uncertain) | a number q in [0, 1]
#          (the probability the layer fails when the mode is present)
#   A bare level (JAILBREAK: V) is shorthand for {level: V}.
#   rationale, source and confidence (high | medium | low) make the judgement checkable.
cells:
  INPUT-FILTER:
    JAILBREAK: {level: V, rationale: "Obfuscated prompts evade the classifier.", source: "red team 2026-10", confidence: high}
    DIST-SHIFT: {level: U, rationale: "Not yet evaluated on new domains.", confidence: low}
  REFUSAL:
    JAILBREAK: {level: 0.3, rationale: "30% attack success in our last evaluation.", source: "eval run 17", confidence: medium}
    DIST-SHIFT: V
"""
