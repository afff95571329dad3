"""Which files may be attached, how they are stored, and who may download them."""

import base64
import io
import struct
import zipfile
import zlib

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import AgentFactory, CustomerFactory
from tickets.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES_PER_MESSAGE,
    MultipleFileField,
    attachments_add,
    attachments_validate,
)
from tickets.models import Attachment
from tickets.services import ticket_add_note, ticket_reply
from tickets.tests.factories import make_ticket

# --- Real files, made from their formats' own bytes -------------------------------------------


def png_bytes() -> bytes:
    """A valid one-pixel PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'


def zip_bytes(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            archive.writestr(member, "<xml/>")
    return buffer.getvalue()


DOCX = zip_bytes("[Content_Types].xml", "word/document.xml")
XLSX = zip_bytes("[Content_Types].xml", "xl/workbook.xml")
PPTX = zip_bytes("[Content_Types].xml", "ppt/presentation.xml")
ZIP = zip_bytes("logs/mail.log")


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


# --- What is accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("screen.png", png_bytes(), "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.JPEG", JPEG, "image/jpeg"),
        ("spinner.gif", GIF, "image/gif"),
        ("pixel.webp", WEBP, "image/webp"),
        ("invoice.pdf", PDF, "application/pdf"),
        (
            "report.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("sheet.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "slides.pptx",
            PPTX,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("logs.zip", ZIP, "application/zip"),
        ("notes.txt", "Грешка 550 при изпращане\n".encode(), "text/plain"),
        ("export.csv", b"id,subject\n1,Mail down\n", "text/csv"),
        ("smtp.log", b"2026-01-01 10:00 connection refused\n", "text/plain"),
        ("config.json", b'{"server": "mx1"}', "application/json"),
    ],
)
@pytest.mark.django_db
def test_each_allowed_type_is_stored_with_the_type_its_bytes_show(name, content, content_type):
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="See attached.")
    # The browser's claim is ignored: the bytes decide.
    [attachment] = attachments_add(message=message, files=[upload(name, content, "text/html")])

    attachment.refresh_from_db()
    assert attachment.ticket == ticket
    assert attachment.message == message
    assert attachment.original_name == name
    assert attachment.content_type == content_type
    assert attachment.size == len(content)
    assert attachment.file.name.startswith(f"attachments/{ticket.pk}/")
    assert name not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


def test_text_cut_inside_a_character_at_the_sniffing_limit_is_still_text() -> None:
    # 8191 ASCII bytes, then a two-byte letter across the 8 KB boundary.
    content = b"a" * 8191 + "я".encode() + b" and more\n" * 100

    attachments_validate(files=[upload("long.log", content)])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("jar-in-disguise.jar", ZIP),
        ("macro.docm", DOCX),
        ("run.bat", png_bytes()),
        ("no-extension", PDF),
    ],
)
@pytest.mark.django_db
def test_a_name_that_does_not_fit_the_content_gets_the_contents_extension(name, content):
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Files.")

    [attachment] = attachments_add(message=message, files=[upload(name, content)])

    assert attachment.original_name.startswith(name)
    assert attachment.original_name.rsplit(".", 1)[1] in {"zip", "png", "pdf"}


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ana\\Desktop\\error.txt", "error.txt"),
        ("/var/log/../mail.txt", "mail.txt"),
        ("bad\x00na\nme\r.txt", "badname.txt"),
    ],
)
@pytest.mark.django_db
def test_a_name_with_path_parts_is_reduced_to_its_base_name(name, kept):
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Log attached.")
    file = upload("placeholder.txt", b"text\n")
    # Set after building: Django's own upload handling would already strip some of this.
    file._name = name

    [attachment] = attachments_add(message=message, files=[file])

    assert attachment.original_name == kept


@pytest.mark.django_db
def test_a_name_with_nothing_left_gets_a_neutral_one() -> None:
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Screenshot.")
    file = upload("placeholder.png", png_bytes())
    file._name = ".."

    [attachment] = attachments_add(message=message, files=[file])

    assert attachment.original_name == "attachment.png"


@pytest.mark.django_db
def test_a_long_name_is_cut_to_255_characters_keeping_its_extension() -> None:
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Log attached.")

    [attachment] = attachments_add(message=message, files=[upload("x" * 300 + ".txt", b"a")])

    assert len(attachment.original_name) == 255
    assert attachment.original_name.endswith("x.txt")


@pytest.mark.django_db
def test_files_for_the_description_hang_on_the_ticket_without_a_message() -> None:
    ticket = make_ticket()

    [attachment] = attachments_add(ticket=ticket, files=[upload("screen.png", png_bytes())])

    assert attachment.ticket == ticket
    assert attachment.message is None


@pytest.mark.django_db
def test_a_message_and_a_ticket_that_do_not_match_are_a_programming_error() -> None:
    message = ticket_reply(ticket=(ticket := make_ticket()), author=ticket.requester, body="Hi.")

    with pytest.raises(ValueError, match="another ticket"):
        attachments_add(message=message, ticket=make_ticket(), files=[upload("a.txt", b"a")])


# --- What is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", EXE),
        ("invoice.pdf", EXE),
        ("invoice.pdf", HTML),
        ("page.html", HTML),
        ("page.txt", HTML),
        ("logo.svg", SVG),
        ("logo.txt", SVG),
        ("logo.png", SVG),
        ("data.bin", b"\x00\x01\x02\x03"),
        ("binary.txt", b"text then \x00 a NUL"),
        ("latin1.csv", "café;prix\n".encode("latin-1")),
        ("note.rtf", b"{\\rtf1\\ansi hello}"),
    ],
)
def test_a_file_whose_bytes_are_not_an_allowed_type_is_refused(name, content):
    with pytest.raises(ValidationError) as caught:
        attachments_validate(files=[upload(name, content, "application/pdf")])

    [message] = messages_of(caught.value)
    assert f"“{name}” is not a type of file we accept" in message
    assert caught.value.error_list[0].code == "file_type_not_allowed"


def test_a_file_one_byte_over_10_mb_is_refused_and_the_limit_is_shown() -> None:
    too_big = upload("dump.txt", b"a" * (MAX_FILE_BYTES + 1))

    with pytest.raises(ValidationError) as caught:
        attachments_validate(files=[too_big])

    [message] = messages_of(caught.value)
    assert "“dump.txt” is too large" in message
    assert "10 MB" in message


def test_a_file_of_exactly_10_mb_is_accepted() -> None:
    attachments_validate(files=[upload("dump.txt", b"a" * MAX_FILE_BYTES)])


def test_an_empty_file_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        attachments_validate(files=[upload("empty.txt", b"")])

    assert messages_of(caught.value) == ["“empty.txt” is empty."]


def test_six_files_are_refused() -> None:
    files = [upload(f"log{n}.txt", b"line\n") for n in range(MAX_FILES_PER_MESSAGE + 1)]

    with pytest.raises(ValidationError) as caught:
        attachments_validate(files=files)

    assert messages_of(caught.value) == ["A message can have at most 5 attachments."]


def test_five_files_are_accepted() -> None:
    attachments_validate(
        files=[upload(f"log{n}.txt", b"line\n") for n in range(MAX_FILES_PER_MESSAGE)]
    )


def test_every_bad_file_gets_its_own_message_naming_it() -> None:
    files = [
        upload("ok.png", png_bytes()),
        upload("setup.exe", EXE),
        upload("huge.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES),
    ]

    with pytest.raises(ValidationError) as caught:
        attachments_validate(files=files)

    messages = messages_of(caught.value)
    assert len(messages) == 2
    assert "setup.exe" in messages[0]
    assert "huge.pdf" in messages[1]


@pytest.mark.django_db
def test_a_refused_file_stores_nothing() -> None:
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Files.")

    with pytest.raises(ValidationError):
        attachments_add(
            message=message, files=[upload("ok.png", png_bytes()), upload("x.exe", EXE)]
        )

    assert not Attachment.objects.filter(ticket=ticket).exists()


@pytest.mark.django_db
def test_a_message_cannot_go_past_five_files_over_several_calls() -> None:
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Files.")
    attachments_add(message=message, files=[upload(f"{n}.txt", b"a") for n in range(4)])

    with pytest.raises(ValidationError):
        attachments_add(message=message, files=[upload(f"{n}.txt", b"a") for n in range(2)])

    assert message.attachments.count() == 4


# --- The form field ------------------------------------------------------------------------------


class ReplyForm(forms.Form):
    body = forms.CharField()
    attachments = MultipleFileField(required=False)


def test_form_field_with_no_files_is_an_empty_list() -> None:
    form = ReplyForm(data={"body": "Hello"}, files={})

    assert form.is_valid()
    assert form.cleaned_data["attachments"] == []


def test_form_field_accepts_several_files_and_offers_multiple_selection() -> None:
    from django.utils.datastructures import MultiValueDict

    files = MultiValueDict({"attachments": [upload("a.png", png_bytes()), upload("b.pdf", PDF)]})
    form = ReplyForm(data={"body": "Hello"}, files=files)

    assert form.is_valid(), form.errors
    assert [file.name for file in form.cleaned_data["attachments"]] == ["a.png", "b.pdf"]
    rendered = str(form["attachments"])
    assert "multiple" in rendered
    assert 'accept=".png,' in rendered


def test_form_field_turns_bad_files_into_form_errors_and_keeps_the_other_input() -> None:
    from django.utils.datastructures import MultiValueDict

    files = MultiValueDict(
        {
            "attachments": [
                upload("setup.exe", EXE),
                upload("empty.txt", b""),
                *[upload(f"{n}.txt", b"a") for n in range(5)],
            ]
        }
    )
    form = ReplyForm(data={"body": "My typed reply"}, files=files)

    assert not form.is_valid()
    errors = form.errors["attachments"]
    assert "A message can have at most 5 attachments." in errors
    assert any("setup.exe" in error for error in errors)
    assert any(error == "“empty.txt” is empty." for error in errors)
    assert form["body"].value() == "My typed reply"


def test_required_form_field_without_files_is_an_error() -> None:
    class Form(forms.Form):
        attachments = MultipleFileField()

    form = Form(data={}, files={})

    assert not form.is_valid()
    assert "attachments" in form.errors


# --- Downloads --------------------------------------------------------------------------------


@pytest.fixture
def public_attachment(db):
    ticket = make_ticket()
    message = ticket_reply(ticket=ticket, author=ticket.requester, body="Screenshot attached.")
    [attachment] = attachments_add(message=message, files=[upload("screen.png", png_bytes())])
    return attachment


@pytest.fixture
def note_attachment(db):
    ticket = make_ticket()
    note = ticket_add_note(ticket=ticket, author=AgentFactory(), body="Customer's raw logs.")
    [attachment] = attachments_add(message=note, files=[upload("internal.log", b"secret\n")])
    return attachment


def url(attachment: Attachment) -> str:
    return reverse("tickets:attachment", args=[attachment.pk])


def test_the_owner_gets_the_file_as_a_download(
    public_attachment, client_for, django_assert_max_num_queries
):
    client = client_for(public_attachment.ticket.requester)

    with django_assert_max_num_queries(4):
        response = client.get(url(public_attachment))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="screen.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_colleague_of_the_requester_gets_the_file(public_attachment, client_for):
    colleague = CustomerFactory(company=public_attachment.ticket.company)

    response = client_for(colleague).get(url(public_attachment))

    assert response.status_code == 200


@pytest.mark.django_db
def test_another_companys_customer_gets_404(public_attachment, client_for):
    response = client_for(CustomerFactory()).get(url(public_attachment))

    assert response.status_code == 404


def test_a_customer_gets_404_for_a_file_on_an_internal_note(note_attachment, client_for):
    response = client_for(note_attachment.ticket.requester).get(url(note_attachment))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_customer_gets_the_files_of_their_tickets_description(client_for):
    ticket = make_ticket()
    [attachment] = attachments_add(ticket=ticket, files=[upload("screen.png", png_bytes())])

    assert client_for(ticket.requester).get(url(attachment)).status_code == 200
    assert client_for(CustomerFactory()).get(url(attachment)).status_code == 404


@pytest.mark.django_db
def test_staff_get_any_file_including_notes(
    public_attachment, note_attachment, client_for, django_assert_max_num_queries
):
    client = client_for(AgentFactory())

    # The attachment, the session's user, and the staff-role check (groups, agent profile).
    with django_assert_max_num_queries(6):
        response = client.get(url(note_attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret\n"
    assert client.get(url(public_attachment)).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(public_attachment, client):
    response = client.get(url(public_attachment))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_unknown_attachment_is_404(client_for):
    assert client_for(AgentFactory()).get("/attachments/999999/").status_code == 404


def test_a_file_missing_from_storage_is_404_not_500(public_attachment, client_for):
    public_attachment.file.storage.delete(public_attachment.file.name)

    response = client_for(public_attachment.ticket.requester).get(url(public_attachment))

    assert response.status_code == 404


def test_download_accepts_only_get_and_head(public_attachment, client_for):
    client = client_for(public_attachment.ticket.requester)

    assert client.post(url(public_attachment)).status_code == 405
