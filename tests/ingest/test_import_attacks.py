"""Attacks on `infopack import`: hostile names, titles, links and sizes in what staff were given."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from infopack.content.load import load_content
from infopack.ingest.model import ImportedArticle, ImportedMedia, ImportOptions
from infopack.ingest.orchestrate import import_sources
from infopack.ingest.writer import write_articles
from kit.content import link_safe_digest
from kit.sources import mp3

TODAY = ImportOptions(today=date(2025, 6, 1))


def _files_under(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


def test_source_named_dot_dot_slash_cannot_write_outside_articles(tmp_path):
    src = tmp_path / "src"
    (src / "..").mkdir(parents=True, exist_ok=True)
    (src / "...txt").write_text("../../x\n\nA text whose title tries to climb out of the articles folder, twice.\n", encoding="utf-8")
    (src / "..md").write_text("# ../../../etc/passwd\n\nAnother text with a path for a title, long enough.\n", encoding="utf-8")
    content = tmp_path / "deep" / "c"
    report = import_sources([src / "...txt", src / "..md"], content, TODAY)
    assert {o.action for o in report.outcomes} == {"new"}
    articles = (content / "articles").resolve()
    assert all(p.resolve().is_relative_to(articles) for p in _files_under(content) if p.name != "infopack.toml")
    assert not (tmp_path / "x").exists() and not (tmp_path / "deep" / "x").exists()
    assert sorted(o.slug for o in report.outcomes) == ["etc-passwd", "x"] or all(".." not in o.slug for o in report.outcomes)
    load_content(content)


def test_title_with_yaml_injection_round_trips_as_text(tmp_path):
    hostile = 'a\n---\nlang: en\nslug: "../../x"\n'
    article = ImportedArticle(
        key="k", source=tmp_path, title=hostile, body="Body text.\n---\nlang: xx\n", body_format="md", lang="ko",
        summary='quote " backslash \\ colon: here\u2028next', tags=["a: b", "- c", "[d]", "#e"],
        authors=["O'Brien: \"x\""], source_url="https://example.org/a?b=1#c",
    )
    (outcome,) = write_articles([(article, "k")], tmp_path / "c", TODAY)
    assert outcome.action == "new"
    (tmp_path / "c" / "infopack.toml").write_text('title = "t"\nlang = "ko"\n', encoding="utf-8")
    (loaded,) = load_content(tmp_path / "c").articles
    assert loaded.title == " ".join(hostile.split())
    assert loaded.lang == "ko" and loaded.slug == outcome.slug and ".." not in loaded.slug
    assert loaded.tags == ["a: b", "- c", "[d]", "#e"] and loaded.authors == ["O'Brien: \"x\""]
    assert "lang: xx" in loaded.body  # the body's own `---` is body text


def test_symlink_inside_a_source_folder_leading_outside_is_refused(tmp_path):
    secret = tmp_path / "private" / "passwords.txt"
    secret.parent.mkdir()
    secret.write_text("Secret: the staff machine's passwords, never to be published.\n", encoding="utf-8")
    src = tmp_path / "captures"
    src.mkdir()
    (src / "story.txt").write_text("A story\n\nA real story staff captured, long enough to be an article here.\n", encoding="utf-8")
    (src / "innocent.txt").symlink_to(secret)
    (src / "folder").symlink_to(secret.parent, target_is_directory=True)
    report = import_sources([src], tmp_path / "c", TODAY)
    actions = {o.identity: o.action for o in report.outcomes}
    assert actions == {"captures/folder": "failed", "captures/innocent.txt": "failed", "captures/story.txt": "new"}
    assert all(b"passwords" not in p.read_bytes() for p in _files_under(tmp_path / "c"))


def test_markdown_picture_outside_the_source_folder_is_not_copied(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.md").write_text("# Title here\n\n![x](../secret.png) ![y](/etc/hostname) ![z](C:\\\\Users\\\\a.png)\n\nText.\n",
                              encoding="utf-8")
    report = import_sources([src], tmp_path / "c", TODAY)
    assert [o.action for o in report.outcomes] == ["new"]
    assert all(b"secret" not in p.read_bytes() for p in _files_under(tmp_path / "c"))
    (article,) = load_content(tmp_path / "c").articles
    assert "../secret.png" not in article.body and "/etc/hostname" not in article.body


def test_huge_text_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: costs no disk
    report = import_sources([huge], tmp_path / "c", TODAY)
    (outcome,) = report.outcomes
    assert outcome.action == "failed" and "larger than 20 MB" in outcome.problems[0]


def test_reader_media_name_with_a_path_is_refused(tmp_path):
    article = ImportedArticle(key="k", source=tmp_path, title="T", body="x", body_format="md", lang="en",
                              media=[ImportedMedia("../../escape.png", b"x")])
    (outcome,) = write_articles([(article, "k")], tmp_path / "c", TODAY)
    assert outcome.action == "failed" and "card-safe" in outcome.problems[0]
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "c" / "articles").exists()


def test_audio_title_tag_with_front_matter_injection_stays_a_title(tmp_path):
    src = tmp_path / "rec"
    src.mkdir()
    mp3(src / "a.mp3", title='x"\n---\nlang: en\nslug: ../../y')
    report = import_sources([src], tmp_path / "c", ImportOptions(today=date(2025, 1, 1), lang="ko"))
    assert [o.action for o in report.outcomes] == ["new"]
    (article,) = load_content(tmp_path / "c").articles
    assert article.lang == "ko" and ".." not in article.slug and article.title.startswith('x" --- lang: en')


def test_sources_are_never_modified_even_when_import_fails(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.md").write_text("# Fine\n\nA fine text that imports without trouble at all.\n", encoding="utf-8")
    (src / "bad.docx").write_bytes(b"PK\x03\x04 broken zip")
    (src / "link.txt").symlink_to("/etc/hostname")
    before = link_safe_digest(src)
    import_sources([src], tmp_path / "c", TODAY)
    import_sources([src], tmp_path / "c", TODAY, force=True)
    assert link_safe_digest(src) == before


def test_two_sources_with_the_same_relative_name_do_not_overwrite_each_other(tmp_path):
    for parent in ("one", "two"):
        (tmp_path / parent / "a").mkdir(parents=True)
        (tmp_path / parent / "a" / "x.md").write_text(f"# From {parent}\n\nThe text that came from folder {parent}.\n",
                                                      encoding="utf-8")
    sources = [tmp_path / "one" / "a", tmp_path / "two" / "a"]
    report = import_sources(sources, tmp_path / "c", TODAY)
    assert [o.action for o in report.outcomes] == ["new", "new"]
    assert sorted(a.title for a in load_content(tmp_path / "c").articles) == ["From one", "From two"]
    again = import_sources(sources, tmp_path / "c", TODAY)
    assert [o.action for o in again.outcomes] == ["unchanged", "unchanged"]


def test_existing_content_folder_without_settings_gets_them_and_keeps_its_files(tmp_path):
    (tmp_path / "c" / "articles" / "mine").mkdir(parents=True)
    (tmp_path / "c" / "articles" / "mine" / "index.md").write_text("---\ntitle: Mine\ndate: 2025-01-01\nlang: en\n---\nMine.\n",
                                                                    encoding="utf-8")
    (tmp_path / "n.md").write_text("# Mine\n\nAn imported text whose title staff already used.\n", encoding="utf-8")
    report = import_sources([tmp_path / "n.md"], tmp_path / "c", TODAY)
    assert report.created_content_dir and report.outcomes[0].slug == "mine-2"
    assert (tmp_path / "c" / "articles" / "mine" / "index.md").read_text(encoding="utf-8").endswith("Mine.\n")
    assert len(load_content(tmp_path / "c").articles) == 2


def test_an_interrupted_import_leaves_nothing_that_loads_and_the_next_one_sweeps_it(tmp_path, monkeypatch):
    import infopack.ingest.writer as writer

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b"):
        (src / f"{name}.md").write_text(f"# Title {name}\n\nText of {name}, long enough to be an article.\n", encoding="utf-8")
    (tmp_path / "c" / "articles" / "kept").mkdir(parents=True)
    (tmp_path / "c" / "articles" / "kept" / "index.md").write_text("---\ntitle: K\ndate: 2025-01-01\nlang: en\n---\nK.\n",
                                                                    encoding="utf-8")

    def power_cut(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_flush_file_system", power_cut)
    try:
        import_sources([src], tmp_path / "c", TODAY)
    except KeyboardInterrupt:
        pass
    left = sorted(p.name for p in (tmp_path / "c" / "articles").iterdir())
    assert left[-1] == "kept" and all(name.startswith(".import-") for name in left[:-1]) and len(left) == 3
    assert [a.slug for a in load_content(tmp_path / "c").articles] == ["kept"]
    monkeypatch.undo()
    report = import_sources([src], tmp_path / "c", TODAY)
    assert [o.action for o in report.outcomes] == ["new", "new"]
    assert sorted(p.name for p in (tmp_path / "c" / "articles").iterdir()) == ["kept", "title-a", "title-b"]


def test_importing_a_folder_that_holds_the_content_folder_skips_the_content_folder(tmp_path):
    (tmp_path / "story.md").write_text("# Story\n\nA story to import, with enough words in it.\n", encoding="utf-8")
    content = tmp_path / "library"
    assert [o.action for o in import_sources([tmp_path], content, TODAY).outcomes] == ["new"]
    again = import_sources([tmp_path], content, TODAY)
    assert [o.action for o in again.outcomes] == ["unchanged"]  # its own articles were not imported again
    inside = import_sources([content / "articles"], content, TODAY)
    assert [o.action for o in inside.outcomes] == ["failed"] and "inside the content folder" in inside.outcomes[0].problems[0]


def test_any_title_summary_and_tag_round_trip_through_the_build_loader(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from infopack.content.load import UNPUBLISHABLE_RE, parse_article_text
    from infopack.ingest.writer import _Prepared, _render

    def expected(text: str) -> str:
        return " ".join(UNPUBLISHABLE_RE.sub(" ", text).split())

    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(title=text, summary=text, tag=text)
    def check(title: str, summary: str, tag: str) -> None:
        source = Path("/nonexistent/source.md")
        article = ImportedArticle(key="k", source=source, title=title or "t", body="Body.\n", body_format="md", lang="en",
                                  summary=summary, tags=[tag])
        item = _Prepared(article, "k", "slug", "index.md")
        _render(item, TODAY, {}, {})
        loaded, problems = parse_article_text(item.text, "slug/index.md")
        assert not problems and loaded is not None
        assert loaded.title == (expected(title or "t") or "source")
        assert loaded.summary == expected(summary)
        assert loaded.tags == ([expected(tag)] if expected(tag) else [])
        assert loaded.lang == "en" and loaded.body == "Body.\n"

    check()
