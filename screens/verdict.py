"""The verdict: the root cause in plain words, the path, and fix cards with exact commands.

Commands for the person's platform come first; `p` shows another platform's. `c` copies the
highlighted command with the terminal's clipboard sequence (OSC 52), which works over SSH.
`r` runs the diagnosis again after a fix and says what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import WizardScreen, footer
from screens.text import PLATFORM_NAMES, fix_commands, path_picture, platform_order
from tui.engine.walk import Diagnosis
from tui.render.path import states_of
from tui.safe.sanitise import visible, visible_lines


@dataclass(frozen=True)
class Change:
    before: str
    after: str
    steps: tuple[str, ...]


def changes(before: Diagnosis, after: Diagnosis) -> Change:
    """What a re-run changed: the root cause, and each step whose status moved."""
    old = {record.id: record for record in before.steps}
    moved = []
    for record in after.steps:
        previous = old.get(record.id)
        if previous is None:
            moved.append(f"{record.title}: now reached ({record.status.value})")
        elif previous.status != record.status:
            moved.append(f"{record.title}: {previous.status.value} → {record.status.value}")
    return Change(before.verdict.root_cause.value, after.verdict.root_cause.value, tuple(moved))


class VerdictScreen(WizardScreen[None]):
    """Letters are actions here: keys typed ahead for a dialog that never came are dropped
    (TYPE_AHEAD), never taken as a copy or a new target. Footer labels are short so that
    every key shows at 80 columns (help, F1, says each in full)."""

    TYPE_AHEAD = False
    BINDINGS = [
        Binding("c", "copy", "Copy"),
        Binding("p", "platform", "Platform"),
        Binding("r", "rerun", "Run again"),
        Binding("s", "steps", "Steps"),
        Binding("t", "transcript", "Transcript"),
        Binding("n", "new_target", "New"),
    ]

    class Rerun(Message):
        pass

    class NewTarget(Message):
        pass

    class ShowTranscript(Message):
        pass

    class ShowSteps(Message):
        pass

    class Drawn(Message):
        """The verdict as the person saw it, as SVG, for the transcript's HTML export."""

        def __init__(self, svg: str) -> None:
            super().__init__()
            self.svg = svg

    class Copied(Message):
        def __init__(self, command: str, fix_id: str) -> None:
            super().__init__()
            self.command = command
            self.fix_id = fix_id

    def __init__(
        self, diagnosis: Diagnosis, previous: Diagnosis | None = None, show_timings: bool = True
    ) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self.previous = previous
        self.show_timings = show_timings
        self.platforms = platform_order()
        self.copied = ""
        self.platform_index = 0
        self.commands: list[tuple[str, str]] = []  # (fix id, command) per option

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="verdict"):
            yield Static(id="cause")
            yield Static(id="summary")
            yield Static(id="change")
            yield Static(id="verdict-path")
        yield Static(id="platform")
        yield OptionList(id="fixes")
        yield Static(id="copied")
        yield footer()

    def on_mount(self) -> None:
        diagnosis = self.diagnosis
        self.title = "sqlreach: verdict"
        self.sub_title = visible(diagnosis.target.data_source)
        cause = diagnosis.verdict.root_cause.value
        style = "bold green" if cause == "OK" else "bold red"
        heading = Text()
        heading.append("Root cause: ")
        heading.append(cause, style=style)
        if self.show_timings:
            heading.append(f"   ({diagnosis.elapsed_ms:.0f} ms)", style="dim")
        self.query_one("#cause", Static).update(heading)
        # a Text, never a str: Static reads a str as markup (a user `dev[/]ops` crashed it)
        self.query_one("#summary", Static).update(Text(visible_lines(diagnosis.verdict.summary)))
        self.query_one("#verdict-path", Static).update(path_picture(states_of(diagnosis)))
        if self.previous is not None:
            change = changes(self.previous, diagnosis)
            text = Text(
                f"Since the last run: {change.before} → {change.after}", style="bold yellow"
            )
            for line in change.steps or ("no step changed",):
                text.append(f"\n  {line}", style="yellow")
            self.query_one("#change", Static).update(text)
        else:
            self.query_one("#change", Static).display = False
        self.show_fixes()
        self.query_one("#copied", Static).update(
            Text("↑↓ a command · c or Enter copies it", style="dim") if self.commands else ""
        )
        self.query_one("#fixes", OptionList).focus()
        self.call_after_refresh(self.capture)

    def capture(self) -> None:
        if self.app.screen is self:
            self.post_message(self.Drawn(self.app.export_screenshot(title="sqlreach verdict")))

    def show_fixes(self) -> None:
        platform = self.platforms[self.platform_index]
        self.query_one("#platform", Static).update(
            Text(
                f"Fixes, commands for {PLATFORM_NAMES[platform]} (p: another platform)",
                style="bold",
            )
        )
        options = self.query_one("#fixes", OptionList)
        options.clear_options()
        self.commands = []
        fixes = self.diagnosis.verdict.fixes
        if not fixes:
            options.add_option(Option(Text("Nothing to fix.", style="dim"), disabled=True))
            return
        for number, fix in enumerate(fixes, 1):
            header = Text()
            header.append(f"{number}. {visible(fix.title)}\n", style="bold")
            header.append(visible_lines(fix.why), style="dim")
            if fix.risk:
                header.append(f"\nRisk: {visible_lines(fix.risk)}", style="yellow")
            for warning in fix.warnings:
                header.append(f"\nWarning: {visible_lines(warning)}", style="bold yellow")
            options.add_option(Option(header, disabled=True))
            listed = fix_commands(fix, platform)
            if not listed:
                others = ", ".join(sorted({PLATFORM_NAMES[c.platform] for c in fix.commands}))
                options.add_option(
                    Option(
                        Text(
                            f"   (no {PLATFORM_NAMES[platform]} command; see {others})", style="dim"
                        ),
                        disabled=True,
                    )
                )
            for label, command in listed:
                body = Text()
                body.append(f"   {visible(label)}:\n", style="italic")
                shown = visible_lines(command).splitlines()
                body.append("\n".join("   " + line for line in shown))
                options.add_option(Option(body, id=f"cmd-{len(self.commands)}"))
                self.commands.append((fix.id, command))

    def selected_command(self) -> tuple[str, str] | None:
        options = self.query_one("#fixes", OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        if option.id is None or not option.id.startswith("cmd-"):
            return None
        return self.commands[int(option.id[4:])]

    def action_copy(self) -> None:
        chosen = self.selected_command()
        if chosen is None:
            self.notify("Highlight a command first (arrow keys).", severity="warning")
            return
        fix_id, command = chosen
        self.app.copy_to_clipboard(command)
        self.post_message(self.Copied(command, fix_id))
        # on a line of its own below the list, never a toast over the command just copied
        first = command.splitlines()[0] if command else ""
        shown = first if len(first) <= 40 else first[:39] + "…"
        copied = self.query_one("#copied", Static)
        copied.update(
            Text.assemble(("Copied: ", "bold green"), shown, (" (OSC 52, over SSH too)", "dim"))
        )

    @on(OptionList.OptionSelected, "#fixes")
    def copy_selected(self) -> None:
        self.action_copy()

    def action_platform(self) -> None:
        self.platform_index = (self.platform_index + 1) % len(self.platforms)
        self.show_fixes()

    def action_rerun(self) -> None:
        self.post_message(self.Rerun())

    def action_steps(self) -> None:
        self.post_message(self.ShowSteps())

    def action_transcript(self) -> None:
        self.post_message(self.ShowTranscript())

    def action_new_target(self) -> None:
        self.post_message(self.NewTarget())
