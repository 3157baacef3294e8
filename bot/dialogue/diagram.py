"""Draw a flow as a Mermaid flowchart, generated from its YAML so it never drifts."""

from __future__ import annotations

import re

from bot.dialogue.flow import END, Flow, Step

FINISH = "finish"  # 'end' is a Mermaid keyword, so the end node needs another id


def _label(step: Step) -> str:
    text = step.ask or step.say or step.title or step.call or step.link or step.id
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "…", text)  # template code is not for readers
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {"ask": "Q", "say": "i", "call": "call", "link": "go to", "draft": "draft"}[step.kind]
    return f"{kind}: {text}".replace('"', "'").replace("{", "(").replace("}", ")")


def _node(step_id: str) -> str:
    return FINISH if step_id == END else step_id


def mermaid(flow: Flow) -> str:
    lines = ["flowchart TD", f'  start(["{flow.title}"]) --> {flow.start}']
    shapes = {
        "ask": ('{{"', '"}}'),
        "say": ('["', '"]'),
        "draft": ('[/"', '"/]'),
        "call": ('[["', '"]]'),
        "link": ('[["', '"]]'),
    }
    ended = False
    for step in flow.steps:
        left, right = shapes[step.kind]
        lines.append(f"  {step.id}{left}{_label(step)}{right}")
    for step in flow.steps:
        if isinstance(step.next, tuple):
            for branch in step.next:
                if branch.when:
                    cond = " and ".join(f"{k} = {'/'.join(v)}" for k, v in branch.when.items())
                else:
                    cond = "otherwise"
                lines.append(f'  {step.id} -->|"{cond}"| {_node(branch.target)}')
        else:
            for target in step.targets():
                lines.append(f"  {step.id} --> {_node(target)}")
        ended = ended or END in step.targets() or step.next is None
    if ended:
        lines.append(f'  {FINISH}(["end"])')
    return "\n".join(lines) + "\n"
