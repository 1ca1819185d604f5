"""Policies: editing one (the wraps follow what it names before and after), a window of
hours over midnight, who can sign a certificate; `policy show|edit` and `who-can-sign`;
and the Policies page and the policy editor driven through their widgets, with the
certificates' Policies column, the Associates tab and Who Can Sign changing at once."""

import datetime as dt
import json

import pytest

from PySide6.QtCore import Qt

from app.errors import ValidationError
from app.services import (
    certificate_edits,
    certificate_groups,
    certificates,
    policies,
    signing,
    users,
)
from app.services.certificate_edits import GeneralChanges
from app.services.policies import PolicySpec
from models import KeyGrant, Policy, User
from models.base import using
from models.permissions import SIGNER
from tests.helpers.gui import answer, settle, wait_rows
from tests.helpers.stores import SIGNER_PASSWORD, import_keys
from ui.main_window import MainWindow

UTC = dt.UTC


@pytest.fixture
def store(session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Release", "Nightly", "Hotfix")
    certificate_groups.add_to_groups(session, ["Release", "Nightly"], ["Production"])
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER, ["Builders"])
    users.add_user(session, "nina", SIGNER_PASSWORD, SIGNER)
    return session


def may_sign(session, name: str) -> list[str]:
    return [c.alias for c in signing.signable_by(session, name)]


def wrapped_to(session, alias: str) -> set[str]:
    """Who holds a wrap of the certificate's key (the custodian's aside)."""
    with using(session.store.db):
        cert = certificates.find(alias)
        grants = (
            KeyGrant.select(User.name).join(User).where(KeyGrant.private_key == cert.private_key_id)
        )
        return {name for (name,) in grants.tuples()}


def test_edit_a_policy_and_the_keys_follow(store):
    policies.add_policy(
        store, PolicySpec("Night", certificates=("Hotfix",), users=("nina",), description="x")
    )
    assert may_sign(store, "nina") == ["Hotfix"]
    row = policies.edit_policy(
        store,
        "Night",
        PolicySpec(
            "Builds", certificate_groups=("Production",), user_groups=("Builders",), priority=5
        ),
    )
    assert (row.name, row.priority, row.certificate_groups, row.user_groups) == (
        "Builds",
        5,
        ("Production",),
        ("Builders",),
    )
    assert may_sign(store, "nina") == [] and may_sign(store, "sam") == ["Nightly", "Release"]
    assert "nina" not in wrapped_to(store, "Hotfix")
    assert "sam" in wrapped_to(store, "Release")
    policies.edit_policy(
        store, "Builds", row.spec().__class__(**{**row.spec().__dict__, "deny": True})
    )
    assert may_sign(store, "sam") == []
    assert "sam" not in wrapped_to(store, "Release")  # a Deny hands no key on
    with pytest.raises(ValidationError, match="name at least one user"):
        policies.edit_policy(store, "Builds", PolicySpec("Builds", certificates=("Hotfix",)))
    policies.add_policy(store, PolicySpec("Other", certificates=("Hotfix",), users=("sam",)))
    with pytest.raises(ValidationError, match="exists"):
        policies.edit_policy(
            store, "Other", PolicySpec("Builds", certificates=("Hotfix",), users=("sam",))
        )


def test_a_window_over_midnight_belongs_to_the_day_it_starts(store):
    policies.add_policy(
        store,
        PolicySpec(
            "Nights", certificates=("Hotfix",), users=("nina",), days="fri", hours="22:00-06:00"
        ),
    )
    friday = dt.datetime(2026, 12, 4, tzinfo=UTC)  # a Friday
    at = lambda day, h, m=0: day + dt.timedelta(hours=h, minutes=m)  # noqa: E731
    nina = lambda when: [c.alias for c in signing.signable_by(store, "nina", when)]  # noqa: E731
    assert nina(at(friday, 23)) == ["Hotfix"]
    assert nina(at(friday, 22)) == ["Hotfix"]
    assert nina(at(friday, 21, 59)) == []
    saturday = friday + dt.timedelta(days=1)
    assert nina(at(saturday, 5, 59)) == ["Hotfix"]  # Friday's night goes on
    assert nina(at(saturday, 6)) == []
    assert nina(at(saturday, 23)) == []  # Saturday is not a day of it
    assert nina(at(friday, 3)) == []  # Thursday's night: not a day of it
    with pytest.raises(ValidationError, match="the same time"):
        policies.parse_hours("06:00-06:00")


def test_who_can_sign_names_the_deciding_policy_and_the_deny(store):
    certificate_edits.edit_certificate(store, "Hotfix", GeneralChanges(owner="nina"))
    policies.add_policy(
        store, PolicySpec("Builders", certificates=("Hotfix",), user_groups=("Builders",))
    )
    policies.add_policy(
        store, PolicySpec("Freeze", certificates=("Hotfix",), users=("sam",), deny=True, priority=0)
    )
    signers = {s.user: (s.allowed, s.policy) for s in policies.who_can_sign(store, "Hotfix")}
    assert signers == {"nina": (True, ""), "sam": (False, "Freeze")}
    assert policies.who_can_sign(store, "Release") == []


def test_the_cli_shows_edits_and_says_who_can_sign(cli, closed_store, tmp_path, certs):
    new = {"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD}
    assert cli("user", "add", "sam", "--user-group", "Builders", env_extra=new).returncode == 0
    path = certs.write(tmp_path, "r.p12", certs.p12(*certs.make_cert("Release"), None))
    assert cli("import", str(path)).returncode == 0
    added = cli("policy", "add", "Nights", "--cert", "Release", "--user", "sam",
                "--hours", "22:00-06:00", "--description", "After hours")  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = json.loads(cli("policy", "show", "Nights", "--json").stdout)
    assert (shown["hours"], shown["description"]) == ("22:00-06:00", "After hours")
    assert cli("policy", "edit", "Nights").returncode == 2  # nothing to change
    edited = cli("policy", "edit", "Nights", "--always", "--no-users", "--user-group", "Builders")
    assert edited.returncode == 0, edited.stderr
    shown = json.loads(cli("policy", "show", "Nights", "--json").stdout)
    assert (shown["hours"], shown["users"], shown["user_groups"]) == ("", [], ["Builders"])
    who = json.loads(cli("who-can-sign", "Release", "--json").stdout)
    assert who == [
        {
            "user": "sam",
            "display_name": "",
            "allowed": True,
            "decided_by": "policy",
            "policy": "Nights",
            "why": "the policy 'Nights' allows it",
        }
    ]
    refused = cli("policy", "edit", "Nights", "--no-user-groups")
    assert refused.returncode == 1
    assert refused.stderr == "certdesk: --user: name at least one user or user group\n"
    events = json.loads(cli("audit", "--json", "--action", "policy.edit").stdout)
    assert events[0]["details"] == {"changed": "hours,users,user_groups"}


@pytest.fixture
def window(qtbot, store):
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 3)
    settle(qtbot)
    return win


def policies_of(win, alias: str) -> tuple[str, ...]:
    model = win.certificates.model
    return next(
        model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).alias == alias
    ).policies


def test_the_editor_makes_a_policy_and_every_view_follows(qtbot, window, store):
    page = window.open_page("Policies")
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    assert page.table.empty_hint.startswith("No policies yet")
    editor = page.new_policy()
    assert not editor.ok_button.isEnabled() and "Name the policy" in editor.ok_button.toolTip()
    editor.name.setText("Builders on weekdays")
    settle(qtbot)
    editor.certificate_groups.set_checked("Production")
    settle(qtbot)
    editor.user_groups.set_checked("Builders")
    editor.scheduled.setChecked(True)
    editor.all_day.setChecked(True)
    assert editor.spec().days == "mon,tue,wed,thu,fri"
    assert "Monday to Friday" in editor.summary.text()
    assert editor.ok_button.isEnabled(), editor.ok_button.toolTip()
    qtbot.mouseClick(editor.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert page.selected().name == "Builders on weekdays"
    assert policies_of(window, "Release") == ("Builders on weekdays",)

    cert_id = certificates.find("Release").id
    cert_window = window.certificates.open_certificate(cert_id)
    qtbot.waitUntil(lambda: cert_window.detail is not None, timeout=10_000)
    signers = cert_window.signers_tab.model
    monday = dt.datetime.now(UTC).weekday() < 5
    assert [signers.row_at(i).user for i in range(signers.rowCount())] == (
        ["sam"] if monday else []
    )
    texts = [cert_window.associates_tab.policy_list.item(0).text()]
    assert texts == ["Builders on weekdays — Allow"]

    page.select("Builders on weekdays")
    page.disable_action.trigger()
    settle(qtbot)
    assert not page.selected().enabled
    qtbot.waitUntil(lambda: cert_window.signers_tab.model.rowCount() == 0, timeout=5_000)
    box = page.delete_selected()
    answer(box, "Delete Policy")
    settle(qtbot)
    assert policies_of(window, "Release") == ()
    with using(store.store.db):
        assert not Policy.select().exists()


def test_a_refusal_is_said_on_its_tab(qtbot, window):
    page = window.open_page("Policies")
    editor = page.new_policy()
    editor.name.setText("Hotfixes")
    settle(qtbot)
    editor.certificates.set_checked("Hotfix")
    settle(qtbot)
    editor.users.set_checked("nina")
    editor.users.chosen.append("ghost")  # deleted meanwhile, say
    qtbot.mouseClick(editor.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert editor.isVisible() and editor.tabs.currentIndex() == 2
    assert editor.errors[2].text() == "Users: no user named “ghost”."
    editor.reject()  # no modal dialog outlives its test
