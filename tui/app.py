"""The Textual application: the composition root that wires the screens to the engine, the
journal and the credential store. Screens render and ask; this module decides what comes next."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.worker import WorkerFailed

from screens.credentials import CredentialsAnswer, CredentialsScreen, Unlocked
from screens.diagnosis import DiagnosisScreen, Run
from screens.help import HelpScreen
from screens.keys import URGENT, KeyGate
from screens.palette import SqlreachCommands
from screens.start import StartRequest, StartScreen
from screens.steps import StepsScreen
from screens.transcript import TranscriptScreen
from screens.verdict import VerdictScreen
from tui.crash import save_report
from tui.engine.settings import Settings
from tui.engine.walk import Diagnosis, Tree
from tui.exitcodes import ExitCode
from tui.knowledge.causes import RootCause
from tui.platforms import current
from tui.run import RunOptions
from tui.secret import PLACEHOLDER, Secret
from tui.target import Target, TargetError, parse_target
from tui.terminal import GONE_EXIT, TerminalWatch, no_terminal_reason, served
from tui.transcript.journal import Journal, TranscriptError
from tui.transcript.store import find_unfinished, list_sessions, resume_info, start_session

if TYPE_CHECKING:
    from tui.credentials import CredentialStore

CSS = Path(__file__).resolve().parent.parent / "screens" / "sqlreach.tcss"


class KeyringLookup:
    """The credential stores as the wizard needs them: the system keyring when it works here
    (or the store the caller injected: a lab, a test), and the encrypted file, opened with the
    passphrase the person types in the wizard; the screens never call a store."""

    def __init__(self, store: CredentialStore | None = None) -> None:
        self.injected = store

    def store(self) -> CredentialStore | None:
        if self.injected is not None:
            return self.injected
        from tui.credentials import system_keyring

        return system_keyring()

    def saved(self, target: Target) -> tuple[str, Secret] | None:
        from tui.credentials import find_saved

        found = find_saved(target, keyring=self.store())
        return (found.user, found.password) if found else None

    def keyring_state(self) -> tuple[bool, str]:
        if self.injected is not None:
            return True, f"the credential store ({self.injected.name})"
        from tui.credentials import keyring_availability

        state = keyring_availability()
        return state.ok, state.reason

    def kept_in_file(self, target: Target) -> list[str]:
        from tui.credentials import target_key, users_in_file

        return users_in_file(target_key(target))

    def unlock(self, target: Target, user: str | None, passphrase: Secret) -> Unlocked:
        from tui.credentials import CredentialError, WrongPassphrase, find_saved, target_key

        try:
            found = find_saved(target.replace(user=user), passphrase=passphrase)
        except WrongPassphrase:
            return Unlocked(
                problem="That passphrase does not open the encrypted file (or the file was "
                "altered)."
            )
        except CredentialError as error:
            return Unlocked(problem=f"The encrypted file cannot be used: {error}.")
        if found is None:
            return Unlocked(
                problem=f"The encrypted file holds no credentials for {target_key(target)}."
            )
        return Unlocked(found.user, found.password)


def save_credentials(
    target: Target, answer: CredentialsAnswer, lookup: KeyringLookup | None = None
) -> str:
    """Keep what the person asked to keep; say where it went (never the password)."""
    from tui.credentials import CredentialError, EncryptedFileStore, target_key

    if answer.keep == "no" or answer.integrated or answer.password is None:
        return ""
    try:
        if answer.keep == "keyring":
            keyring = (lookup or KeyringLookup()).store()
            if keyring is None:
                return "The credentials were not kept: no keyring works here."
            keyring.save(target_key(target), answer.user, answer.password)
            where = "the system keyring" if keyring.name == "keyring" else keyring.name
            return f"Credentials for {target_key(target)} kept in {where}."
        if answer.passphrase is not None:
            store = EncryptedFileStore(answer.passphrase)
            store.save(target_key(target), answer.user, answer.password)
            return f"Credentials for {target_key(target)} kept in {store.path} (encrypted)."
    except CredentialError as error:
        return f"The credentials were not kept: {error}"
    return ""


@dataclass
class Session:
    """One target's run(s): its journal, what the person typed, the last verdict."""

    target: Target
    text: str  # as the person typed it: the start screen offers it again after a cancel
    error_text: str | None
    journal: Journal | None
    journal_note: str | None
    credentials: CredentialsAnswer | None = None
    last: Diagnosis | None = None
    history: list[Diagnosis] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # a re-run does not ask again


class SqlreachApp(App[None]):
    TITLE = "sqlreach"
    SUB_TITLE = "from 'actively refused' to the root cause"
    CSS_PATH = str(CSS)
    COMMANDS = App.COMMANDS | {SqlreachCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        *,
        target_text: str | None = None,
        error_text: str | None = None,
        tree: Tree | None = None,
        timeout: float = 3.0,
        suggestions: Sequence[tuple[str, str]] = (),
        sessions_dir: Path | None = None,
        record: bool = True,
        show_timings: bool = True,
        settings: Settings | None = None,
        credential_lookup: KeyringLookup | None = None,
    ) -> None:
        super().__init__()
        self.target_text = target_text
        self.error_text = error_text
        self._tree = tree
        self.timeout = timeout
        self.suggestions = tuple(suggestions)
        self.sessions_dir = sessions_dir
        self.record = record
        self.show_timings = show_timings
        self.settings = settings or Settings()
        self.credential_lookup = credential_lookup
        self.session: Session | None = None
        self.secrets: list[Secret] = []  # every secret seen: scrubbed from a crash report
        self.crash: BaseException | None = None
        self.gone: str | None = None  # why the terminal went away, when it did
        self.keys = KeyGate(self, self.deliver_key)

    @property
    def decision_tree(self) -> Tree:
        if self._tree is None:
            from tui.steps.tree import TREE

            self._tree = TREE
        return self._tree

    def on_mount(self) -> None:
        if self.target_text:
            self.begin(StartRequest(self.target_text, self.error_text))
        else:
            self.show_start()

    # -- keys: in order, each after the last one's effects (screens/keys.py) -----------------

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key | events.Paste)
            and not event.is_forwarded
            and not (isinstance(event, events.Key) and event.key in URGENT)
        ):
            self.keys.put(event)
            return
        await super().on_event(event)

    async def deliver_key(self, event: events.Key | events.Paste) -> None:
        await super().on_event(event)

    # -- the flow ------------------------------------------------------------------------------

    def show_start(self, notice: str | None = None, initial: str | None = None) -> None:
        suggestions = list(self.suggestions)
        if self.record and self.sessions_dir is None:
            for session in find_unfinished()[-1:]:
                info = resume_info(session)
                done = ", ".join(info.steps_done) or "no step"
                notice = notice or (
                    f"An earlier session for {info.target_text} stopped before "
                    f"its verdict (done: {done}). Pick it below to resume."
                )
                suggestions.insert(0, (f"Resume: {info.target_text}", info.target_text))
            recent = {s.target_text: s for s in list_sessions()[-20:] if s.finished}
            suggestions += [(f"Recent: {text}", text) for text in list(recent)[-5:]]
        self.push_screen(
            StartScreen(initial or self.target_text or "", tuple(suggestions), notice),
            self.begin,
        )

    def begin(self, request: StartRequest | None) -> None:
        if request is None:
            return
        try:
            target = parse_target(request.target_text)
        except TargetError as error:
            self.show_start(f"Cannot read the target: {error}")
            return
        if target.password is not None and target.password.reveal() == PLACEHOLDER:
            target = target.replace(password=None)  # a transcript's redacted password
        if target.password is not None:
            self.secrets.append(target.password)
        journal, note = self.open_journal(target)
        if journal is not None and request.error_text:
            journal.error_text(request.error_text)
        self.session = Session(target, request.target_text, request.error_text, journal, note)
        self.diagnose()

    def open_journal(self, target: Target) -> tuple[Journal | None, str | None]:
        if not self.record:
            return None, "This session is not recorded."
        try:
            opened = start_session(target, directory=self.sessions_dir)
        except TranscriptError as error:
            self.notify(str(error), severity="warning", timeout=10, markup=False)
            return None, str(error)
        if opened.message:
            self.notify(opened.message, severity="warning", timeout=10, markup=False)
        return opened.journal, opened.message

    def diagnose(self) -> None:
        session = self.session
        assert session is not None
        run = Run(
            tree=self.decision_tree,
            target=session.target,
            options=RunOptions(
                timeout=self.timeout,
                preset=dict(session.answers),
                settings=replace(self.settings, error_text=session.error_text),
            ),
            record=session.journal.record if session.journal else None,
            on_back=self.went_back,
            on_credentials=self.remember_credentials,
            credentials_screen=lambda target: CredentialsScreen(target, self.credential_lookup),
            show_timings=self.show_timings,
        )
        self.push_screen(DiagnosisScreen(run), self.diagnosed)

    def went_back(self, step: str) -> None:
        """Escape on a question: the walk starts again up to the question before it."""
        if self.session is not None and self.session.journal is not None:
            self.session.journal.write("back", step=step)

    def remember_credentials(self, answer: CredentialsAnswer) -> None:
        assert self.session is not None
        self.session.credentials = answer
        self.secrets += [s for s in (answer.password, answer.passphrase) if s is not None]
        if self.session.journal is not None:
            self.session.journal.add_secret(answer.password)
            self.session.journal.add_secret(answer.passphrase)
        if answer.log_in and not answer.integrated:
            self.session.target = answer.apply(self.session.target)

    def diagnosed(self, diagnosis: Diagnosis | None) -> None:
        session = self.session
        assert session is not None
        if diagnosis is None:  # cancelled
            if session.last is not None:
                self.push_screen(VerdictScreen(session.last, None, self.show_timings))
            else:
                self.close_session("cancelled")
                self.show_start("The diagnosis was cancelled.", initial=session.text)
            return
        previous = session.last
        session.last = diagnosis
        session.answers = {r.id: r.answer for r in diagnosis.steps if r.answer is not None}
        session.history.append(diagnosis)
        if session.journal is not None:
            session.journal.fixes_shown([f.id for f in diagnosis.verdict.fixes], current().value)
        answer = session.credentials
        if answer is not None and diagnosis.verdict.root_cause is RootCause.OK:
            kept = save_credentials(diagnosis.target, answer, self.credential_lookup)
            if kept:
                self.notify(kept, markup=False)
        self.push_screen(VerdictScreen(diagnosis, previous, self.show_timings))

    def close_session(self, status: str) -> None:
        if self.session is not None and self.session.journal is not None:
            self.session.journal.close(status)

    # -- the terminal gone, or sqlreach itself failing -----------------------------------------

    def terminal_gone(self, reason: str) -> None:
        """The terminal went away: the journal is closed first, then the app exits."""
        self.gone = reason
        self.keys.stop()
        self.close_session("terminal-gone")
        self.exit(return_code=GONE_EXIT)

    def gone_from_thread(self, reason: str) -> None:
        self.gone = reason  # at once: the app may already be closing (Textual's input thread
        self.call_later(self.terminal_gone, reason)  # can end it on EIO); thread-safe post

    def stuck(self, reason: str) -> None:
        """Still alive GRACE seconds after the terminal went away (a thread that will not
        end, a write to the dead terminal that blocks): the journal is closed here, and the
        process ends."""
        self.gone = reason
        with contextlib.suppress(Exception):
            self.close_session("terminal-gone")
        os._exit(GONE_EXIT)

    def _handle_exception(self, error: Exception) -> None:
        """A bug: remembered for the crash report (run_wizard saves it, secret-free), the
        journal closed as crashed; Textual then exits (and the pilot re-raises it in tests)."""
        if self.crash is None:
            self.crash = error.error if isinstance(error, WorkerFailed) else error
            with contextlib.suppress(Exception):
                self.close_session("crashed")
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """Textual's own report is a traceback with local variables (passwords among them):
        never built; the crash report replaces it."""
        self.bell()
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        if self.crash is None:
            super()._print_error_renderables()
        self._exit_renderables.clear()

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Screenshots go to ~/Downloads when it exists (Textual's choice), else to sqlreach's
        data directory (servers seldom have a Downloads folder); Textual says where."""
        if path is None and not self.is_web:
            path = str(screenshot_directory())
        return super().deliver_screenshot(filename, path, time_format)

    # -- what the verdict screen asks for --------------------------------------------------

    def on_verdict_screen_rerun(self) -> None:
        if self.session is not None and self.session.journal is not None:
            self.session.journal.rerun()
        self.pop_screen()
        self.diagnose()

    def on_verdict_screen_new_target(self) -> None:
        self.close_session("finished")
        self.pop_screen()
        self.target_text = None
        self.show_start()

    def on_verdict_screen_show_transcript(self) -> None:
        session = self.session
        self.push_screen(
            TranscriptScreen(
                session.journal if session else None, session.journal_note if session else None
            )
        )

    def on_verdict_screen_show_steps(self) -> None:
        if self.session is not None and self.session.last is not None:
            self.push_screen(
                StepsScreen(self.session.last, self.decision_tree.steps, self.show_timings)
            )

    def on_verdict_screen_drawn(self, message: VerdictScreen.Drawn) -> None:
        if self.session is not None and self.session.journal is not None:
            self.session.journal.verdict_screen(message.svg)

    def on_verdict_screen_copied(self, message: VerdictScreen.Copied) -> None:
        if self.session is not None and self.session.journal is not None:
            self.session.journal.copied(message.command, message.fix_id)

    # -- actions for the palette and keys ------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_new_target(self) -> None:
        if isinstance(self.screen, VerdictScreen):
            self.on_verdict_screen_new_target()

    def action_rerun(self) -> None:
        if isinstance(self.screen, VerdictScreen):
            self.on_verdict_screen_rerun()

    def action_copy(self) -> None:
        if isinstance(self.screen, VerdictScreen):
            self.screen.action_copy()

    def action_transcript(self) -> None:
        self.on_verdict_screen_show_transcript()

    def action_steps(self) -> None:
        if isinstance(self.screen, VerdictScreen):
            self.on_verdict_screen_show_steps()

    def on_unmount(self) -> None:
        self.keys.stop()
        self.close_session("terminal-gone" if self.gone else "finished")


def make_app(
    target_text: str | None = None,
    *,
    error_text: str | None = None,
    tree: Tree | None = None,
    timeout: float = 3.0,
    suggestions: Sequence[tuple[str, str]] = (),
    sessions_dir: Path | None = None,
    record: bool = True,
    show_timings: bool = True,
    settings: Settings | None = None,
    credential_store: CredentialStore | None = None,
) -> SqlreachApp:
    """One factory for the CLI and the tests. `credential_store` replaces the system keyring
    (for a lab or a test); None means the keyring, when it works here."""
    return SqlreachApp(
        target_text=target_text,
        error_text=error_text,
        tree=tree,
        timeout=timeout,
        suggestions=suggestions,
        sessions_dir=sessions_dir,
        record=record,
        show_timings=show_timings,
        settings=settings,
        credential_lookup=KeyringLookup(credential_store),
    )


def screenshot_directory() -> Path:
    """~/Downloads when it exists, else an owner-only folder in sqlreach's data directory."""
    import platformdirs

    downloads = platformdirs.user_downloads_path()
    if downloads.is_dir():
        return downloads
    folder = Path(platformdirs.user_data_dir("sqlreach")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def run_wizard(
    target_text: str | None = None,
    suggestions: Sequence[tuple[str, str]] | None = None,
    error_text: str | None = None,
    timeout: float = 3.0,
    settings: Settings | None = None,
) -> int:
    """The wizard in this terminal (`settings`: the lab's own DNS server, for its names). Exit
    codes: 0 when the person quits, 2 with no terminal,
    3 when sqlreach itself failed (the report's place is printed), 129 when the terminal went
    away (the journal is closed first)."""
    problem = no_terminal_reason()
    if problem:
        sys.stderr.write(f"sqlreach: {problem}\n")
        return ExitCode.USAGE
    run_app(
        make_app(
            target_text,
            suggestions=suggestions or (),
            error_text=error_text,
            timeout=timeout,
            settings=settings,
        )
    )


def run_app(app: SqlreachApp) -> NoReturn:
    """Run `app` in this terminal, watched for the terminal going away, and end the process
    with the wizard's exit code."""
    watch = None if served() else TerminalWatch(app.gone_from_thread, app.stuck).start()
    try:
        app.run()
    finally:
        if watch is not None:
            watch.stop()
    code: int = ExitCode.OK
    if app.crash is not None:
        sys.stderr.write(save_report(app.crash, app.secrets).message())
        code = ExitCode.CRASH
    elif app.gone is not None:
        code = GONE_EXIT
    end_process(code)


def end_process(code: int) -> NoReturn:
    """The journal is closed and the terminal restored: end here, without the interpreter's
    teardown, which waits for every worker thread (a resolver or a driver stuck in a call it
    cannot be woken from) and takes most of a second with Textual loaded (measured on a busy
    machine). Quitting is never held up by what a server does."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


SERVE_MISSING: Final = (
    "sqlreach --serve needs textual-serve, which is not installed. Install the 'serve' extra: "
    "pip install 'sqlreach[serve]' (or: pipx install 'sqlreach[serve]', "
    "uv tool install 'sqlreach[serve]')."
)


def serve(host: str = "localhost", port: int = 8000) -> int:
    """The wizard in a browser (textual-serve). The probes run on this machine, not the
    visitor's."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print(SERVE_MISSING, file=sys.stderr)
        return ExitCode.USAGE
    Server(serve_command(), host=host, port=port, title="sqlreach").serve()
    return ExitCode.OK


def serve_command(executable: str = sys.executable, platform: str = sys.platform) -> str:
    """The command line textual-serve starts for each visitor. It hands the string to a shell
    (`asyncio.create_subprocess_shell`: /bin/sh, or cmd.exe through subprocess's Windows
    rules), so the interpreter's path is quoted in that shell's way: a venv under
    "C:\\Users\\First Last" or "/Users/First Last" starts like any other."""
    argv = [executable, "-m", "tui"]
    if platform == "win32":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)
