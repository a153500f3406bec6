"""The viewer in Debian's Firefox ESR, driven over Marionette (Playwright cannot drive Debian's
Firefox). Automation flips `security.fileuri.strict_origin_policy` off, so the fixture sets it back
to Firefox's default (true) and checks it before any page loads: the tests see what readers see.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from infopack.build.assemble import build_bundle
from kit.comforts import KO_TITLES, LANTERNS, LONG_SLUG, RELATED_SAME_LANGUAGE, SECTIONS, build_comfort_bundle
from kit.content import REPO, only_file
from kit.damage import copy_with_article_bit_flipped, neighbours_in_one_pack

FIREFOX = "/usr/bin/firefox-esr"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def firefox(tmp_path_factory):
    if not Path(FIREFOX).exists():
        pytest.skip("Debian firefox-esr is not installed")
    marionette_module = pytest.importorskip("marionette_driver.marionette")
    profile = tmp_path_factory.mktemp("firefox-profile")
    port = _free_port()
    (profile / "user.js").write_text(f'user_pref("marionette.port", {port});\n')
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "-remote-allow-system-access", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = marionette_module.Marionette(host="127.0.0.1", port=port)
    try:
        deadline = time.time() + 60
        while True:
            try:
                client.start_session()
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        with client.using_context("chrome"):
            client.execute_script("Services.prefs.setBoolPref('security.fileuri.strict_origin_policy', true)")
            assert client.execute_script("return Services.prefs.getBoolPref('security.fileuri.strict_origin_policy')")
        yield client
    finally:
        try:
            client.delete_session()
        except Exception:
            pass
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ff") / "bundle"
    build_bundle(REPO / "content", out)
    return out


def wait_for(client, script: str, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = client.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def test_library_and_article_open_in_firefox_with_default_file_policy(firefox, bundle):
    firefox.navigate((bundle / "index.html").as_uri())
    count = wait_for(firefox, "return document.querySelectorAll('.list li').length")
    assert count == 9
    # In-page navigation: the address, the title and the history stay as they were (issue 10).
    before = firefox.execute_script("return [location.href, document.title, history.length]")
    firefox.execute_script("document.querySelectorAll('.list li a.title')[2].click()")
    wait_for(firefox, "var b = document.querySelector('article .body'); return b && b.children.length")
    assert firefox.execute_script("return [location.href, document.title, history.length]") == before
    firefox.execute_script("document.getElementById('back-button').click()")
    assert wait_for(firefox, "return document.querySelectorAll('.list li').length") == 9
    firefox.navigate((bundle / "index.html").as_uri() + "#/a/reading-safely-en")
    text = wait_for(firefox, "var b = document.querySelector('article .body'); return b && b.children.length && b.textContent")
    assert "without an internet connection" in text
    firefox.navigate((bundle / "index.html").as_uri() + "#/search?q=" + "도서관")
    wait_for(firefox, "return document.querySelector('.list li mark')")
    storage = firefox.execute_script("return [localStorage.length, sessionStorage.length, document.cookie]")
    assert storage == [0, 0, ""]


def test_damaged_file_gives_a_message_in_firefox(firefox, bundle, tmp_path):
    hit, neighbour = neighbours_in_one_pack(bundle)
    damaged = copy_with_article_bit_flipped(bundle, tmp_path / "damaged", hit)
    firefox.navigate((damaged / "index.html").as_uri() + "#/a/" + hit.slug)
    message = wait_for(firefox, "var n = document.querySelector('.notice'); return n && n.textContent")
    assert f"data/{hit.pack}.js" in message and hit.title in message  # names the article it lost
    firefox.navigate((damaged / "index.html").as_uri() + "#/a/" + neighbour.slug)
    assert wait_for(firefox, "var b = document.querySelector('article .body'); return b && b.children.length && !b.querySelector('.notice')")


def pick_file(client, input_id: str, path: Path) -> None:
    """What choosing a file in the chooser does. Marionette types only into a visible input, and the
    viewer's is hidden behind its button (whose click opens a native chooser), so it is shown first."""
    client.execute_script(f"document.getElementById('{input_id}').hidden = false")
    client.find_element("id", input_id).send_keys(str(path))


def test_phone_html_reads_a_picked_library_pack_in_firefox(firefox, tmp_path):
    big = build_bundle(REPO / "content", tmp_path / "big", one_file_limit=1000).bundle_dir
    firefox.navigate(only_file(big, "phone.html", tmp_path).as_uri())
    wait_for(firefox, "return document.getElementById('library-pack-input')")
    pick_file(firefox, "library-pack-input", big / "library.pack")
    assert wait_for(firefox, "return document.querySelectorAll('.list li').length") == 9
    firefox.execute_script("document.querySelectorAll('.list li a.title')[2].click()")
    wait_for(firefox, "var b = document.querySelector('article .body'); return b && b.children.length")


def test_index_html_alone_offers_the_library_pack_picker_in_firefox(firefox, bundle, tmp_path):
    firefox.navigate(only_file(bundle, "index.html", tmp_path).as_uri())
    wait_for(firefox, "return document.getElementById('library-pack-input')")
    pick_file(firefox, "library-pack-input", bundle / "library.pack")
    assert wait_for(firefox, "return document.querySelectorAll('.list li').length") == 9


def test_one_file_variant_in_firefox(firefox, bundle, tmp_path):
    firefox.navigate(only_file(bundle, "phone.html", tmp_path).as_uri())
    assert wait_for(firefox, "return document.querySelectorAll('.list li').length") == 9


@pytest.fixture(scope="module")
def comforts(tmp_path_factory) -> Path:
    return build_comfort_bundle(tmp_path_factory.mktemp("ff-comforts"))


WHERE = "return [location.href, document.title, history.length]"


def test_comforts_work_in_firefox_without_touching_address_or_history(firefox, comforts):
    """Contents, related articles, previous/next in a topic, random, suggestions by keyboard."""
    from marionette_driver.by import By
    from marionette_driver.keys import Keys

    firefox.navigate((comforts / "index.html").as_uri())
    wait_for(firefox, "return document.querySelectorAll('.list li').length")
    where = firefox.execute_script(WHERE)

    # Contents: a jump is a scroll, with focus on the heading, and no fragment.
    firefox.execute_script(f"document.querySelector('a.title[data-route=\"/a/{LONG_SLUG}\"]').click()")
    wait_for(firefox, "return document.querySelector('article .toc')")
    links = firefox.execute_script("return [...document.querySelectorAll('.toc a')].map(a => a.textContent)")
    assert links == SECTIONS
    firefox.execute_script("document.querySelectorAll('.toc a')[3].click()")
    assert wait_for(firefox, f"return document.activeElement.textContent === {SECTIONS[3]!r} && window.scrollY > 300")
    # Captions and related articles.
    assert firefox.execute_script("return document.querySelectorAll('article figure.captioned figcaption').length") == 2
    related = wait_for(firefox, "var n = document.querySelectorAll('.related li a'); return n.length && [...n].map(a => a.textContent)")
    assert related == RELATED_SAME_LANGUAGE

    # Previous/next follow the topic list.
    firefox.execute_script("document.getElementById('back-button').click()")
    wait_for(firefox, "return document.querySelectorAll('.list li').length")
    firefox.execute_script("document.querySelector('a.chip[data-route=\"/tag/lantern\"]').click()")
    assert wait_for(firefox, "var n = document.querySelectorAll('.list li'); return n.length === 12") is True
    titles = firefox.execute_script("return [...document.querySelectorAll('.list li a.title')].map(a => a.textContent)")
    assert sorted(titles) == LANTERNS
    firefox.execute_script("document.querySelectorAll('.list li a.title')[3].click()")
    nxt = wait_for(firefox, "var a = document.querySelector('.pager a[rel=next]'); return a && a.textContent")
    assert nxt == titles[4] + " →"

    # Random.
    firefox.execute_script("document.querySelector('main .after button.random').click()")
    wait_for(firefox, f"var h = document.querySelector('article h1'); return h && h.textContent !== {titles[3]!r}")

    # Suggestions, typed for real: 초성, arrows, Enter.
    box = firefox.find_element(By.ID, "search-input")
    box.click()
    box.send_keys("ㄷㄹ")
    found = wait_for(firefox, "var b = document.getElementById('search-suggestions'); return !b.hidden && b.getAttribute('data-complete') === 'ㄷㄹ' && [...b.children].map(li => li.textContent)")
    assert set(found) == {KO_TITLES["crane-diary"], KO_TITLES["scroll-story"]}
    box.send_keys(Keys.ARROW_DOWN)
    assert firefox.execute_script("return document.getElementById('search-input').getAttribute('aria-activedescendant')") == "suggestion-0"
    box.send_keys(Keys.ENTER)
    assert wait_for(firefox, f"var h = document.querySelector('article h1'); return h && h.textContent === {found[0]!r}")
    box = firefox.find_element(By.ID, "search-input")
    box.clear()
    box.click()
    box.send_keys("lanter")
    assert wait_for(firefox, "var b = document.getElementById('search-suggestions'); return b.getAttribute('data-complete') === 'lanter' && b.children.length") == 8
    box.send_keys(Keys.ESCAPE)
    assert firefox.execute_script("return document.getElementById('search-suggestions').hidden") is True

    assert firefox.execute_script(WHERE) == where
    assert firefox.execute_script("return location.hash") == ""
