"""Draw a flow as a Mermaid flowchart, generated from its YAML so it never drifts."""

from __future__ import annotations

from bot.dialogue.flow import END, Flow, Step


def _label(step: Step) -> str:
    text = step.ask or step.say or step.title or step.call or step.link or step.id
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {"ask": "Q", "say": "i", "call": "call", "link": "go to", "draft": "draft"}[step.kind]
    return f"{kind}: {text}".replace('"', "'").replace("{", "(").replace("}", ")")


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
                lines.append(f'  {step.id} -->|"{cond}"| {branch.target}')
        else:
            for target in step.targets():
                lines.append(f"  {step.id} --> {target}")
        ended = ended or END in step.targets() or step.next is None
    if ended:
        lines.append(f'  {END}(["end"])')
    return "\n".join(lines) + "\n"
