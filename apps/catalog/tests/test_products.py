"""/fruits/: the course's product endpoint."""

import json

import pytest
from rest_framework.authtoken.models import Token

from catalog_site.shop.models import Product
from tests.helpers import WATERMELON

pytestmark = pytest.mark.django_db


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_empty_list_is_a_plain_json_array(client):
    response = client.get("/fruits/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == []


def test_create_returns_201_with_the_object(client, auth):
    response = post_json(client, "/fruits/", WATERMELON, **auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in WATERMELON} == WATERMELON
    assert isinstance(body["id"], int)
    assert Product.objects.get(name="Watermelon").weight == 500


@pytest.mark.parametrize("url", ["/fruits", "/fruits/"])
def test_both_spellings_of_the_path_accept_posts_without_redirect(client, auth, url):
    response = post_json(client, url, WATERMELON, **auth)
    assert response.status_code == 201


def test_form_encoded_post_works_too(client, auth):
    # requests.post(url, data=product) sends a form, not JSON: accept it.
    response = client.post("/fruits/", WATERMELON, **auth)
    assert response.status_code == 201, response.content
    assert response.json()["weight"] == 500


def test_created_product_is_in_the_next_list(client, auth):
    post_json(client, "/fruits/", WATERMELON, **auth)
    listed = client.get("/fruits/").json()
    assert [p["name"] for p in listed] == ["Watermelon"]
    assert set(listed[0]) == {"id", "name", "weight", "description", "image_name"}


# --- authentication ---------------------------------------------------------------------


def test_post_without_token_is_401(client):
    response = post_json(client, "/fruits/", WATERMELON)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Product.objects.exists()


def test_post_with_wrong_token_is_401(client, token):
    response = post_json(client, "/fruits/", WATERMELON, HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert not Product.objects.exists()


def test_token_of_an_inactive_user_is_refused(client, token):
    Token.objects.get(key=token).user.__class__.objects.update(is_active=False)
    response = post_json(client, "/fruits/", WATERMELON, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401


def test_reads_are_public(client):
    assert client.get("/fruits/").status_code == 200
    assert client.get("/fruits/", HTTP_ACCEPT="text/html").status_code == 200


# --- validation ----------------------------------------------------------------------


def test_duplicate_name_is_409_with_a_code_and_the_field_error(client, auth):
    assert post_json(client, "/fruits/", WATERMELON, **auth).status_code == 201
    response = post_json(client, "/fruits/", WATERMELON, **auth)
    assert response.status_code == 409
    assert response.json() == {"code": "duplicate", "name": ["A product with this name already exists."]}
    assert Product.objects.count() == 1


def test_duplicate_with_another_error_is_a_plain_400(client, auth):
    """Only a request whose sole problem is "already exists" is a 409: with a bad weight too,
    the client has to fix its input first."""
    post_json(client, "/fruits/", WATERMELON, **auth)
    response = post_json(client, "/fruits/", {**WATERMELON, "weight": "500 lbs"}, **auth)
    assert response.status_code == 400
    assert set(response.json()) == {"name", "weight"}
    assert "code" not in response.json()


def test_duplicate_from_a_race_is_still_409(client, auth, monkeypatch):
    """Two clients posting the same name at once: the database constraint catches what
    the validator could not, and the client still gets the same 409."""
    from rest_framework.validators import UniqueValidator

    post_json(client, "/fruits/", WATERMELON, **auth)
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)
    response = post_json(client, "/fruits/", WATERMELON, **auth)
    assert response.status_code == 409
    assert response.json() == {"code": "duplicate", "name": ["A product with this name already exists."]}


@pytest.mark.parametrize(
    "weight, message",
    [
        ("500 lbs", 'A valid integer is required (a number of lbs such as 500, not "500 lbs").'),
        (-1, "The weight must not be negative."),
        (1.5, 'A valid integer is required (a number of lbs such as 500, not "500 lbs").'),
        (True, 'A valid integer is required (a number of lbs such as 500, not "500 lbs").'),
        (None, "This field may not be null."),
        (10**12, "Ensure this value is less than or equal to 2147483647."),
    ],
)
def test_bad_weight_is_400(client, auth, weight, message):
    response = post_json(client, "/fruits/", {**WATERMELON, "weight": weight}, **auth)
    assert response.status_code == 400
    assert response.json() == {"weight": [message]}


def test_weight_as_a_numeric_string_is_accepted(client, auth):
    response = post_json(client, "/fruits/", {**WATERMELON, "weight": "500"}, **auth)
    assert response.status_code == 201
    assert response.json()["weight"] == 500


@pytest.mark.parametrize("missing", ["name", "weight", "description", "image_name"])
def test_missing_field_is_400(client, auth, missing):
    data = {k: v for k, v in WATERMELON.items() if k != missing}
    response = post_json(client, "/fruits/", data, **auth)
    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_all_fields_missing_lists_every_field(client, auth):
    response = post_json(client, "/fruits/", {}, **auth)
    assert response.status_code == 400
    assert set(response.json()) == {"name", "weight", "description", "image_name"}


@pytest.mark.parametrize("image_name", ["../etc/passwd", "a/b.jpeg", "..", ".hidden.jpeg", "x\x00.jpeg"])
def test_unsafe_image_name_is_400(client, auth, image_name):
    response = post_json(client, "/fruits/", {**WATERMELON, "image_name": image_name}, **auth)
    assert response.status_code == 400
    assert "image_name" in response.json()


def test_blank_image_name_is_allowed(client, auth):
    response = post_json(client, "/fruits/", {**WATERMELON, "image_name": ""}, **auth)
    assert response.status_code == 201


def test_malformed_json_is_400(client, auth):
    response = client.post("/fruits/", "{not json", content_type="application/json", **auth)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def product(number, **fields):
    return dict({"name": "Fruit %d" % number, "weight": number, "description": "d", "image_name": ""}, **fields)


def test_a_list_creates_every_product_in_its_order_in_one_transaction(client, auth):
    response = post_json(client, "/fruits/", [product(n) for n in (3, 1, 2)], **auth)
    assert response.status_code == 201, response.content
    assert [p["name"] for p in response.json()] == ["Fruit 3", "Fruit 1", "Fruit 2"]
    assert [p["name"] for p in client.get("/fruits/").json()] == ["Fruit 3", "Fruit 1", "Fruit 2"]


def test_a_list_with_one_bad_product_creates_none_and_says_which(client, auth):
    response = post_json(client, "/fruits/", [product(1), product(2, weight="heavy")], **auth)
    assert response.status_code == 400
    assert list(response.json()["items"]) == ["1"] and "weight" in response.json()["items"]["1"]
    assert client.get("/fruits/").json() == []


def test_a_list_with_a_name_on_the_site_is_409_and_creates_none(client, auth):
    post_json(client, "/fruits/", product(2), **auth)
    response = post_json(client, "/fruits/", [product(1), product(2)], **auth)
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert response.json()["items"] == {"1": {"name": ["A product with this name already exists."]}}
    assert [p["name"] for p in client.get("/fruits/").json()] == ["Fruit 2"]


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "Send 1 to 1000 products in a list."),
        ([product(1)] * 2, "Two products of the list have the same name."),
        ([product(n) for n in range(1001)], "Send 1 to 1000 products in a list."),
    ],
)
def test_lists_that_are_empty_too_long_or_repeat_a_name_are_400(client, auth, data, message):
    response = post_json(client, "/fruits/", data, **auth)
    assert response.status_code == 400 and message in json.dumps(response.json())
    assert client.get("/fruits/").json() == []


def test_a_list_of_reviews_is_still_400(client, auth):
    response = post_json(
        client, "/feedback/", [{"title": "t", "name": "n", "date": "2020-02-02", "feedback": "f"}], **auth
    )
    assert response.status_code == 400


# --- browsable API, pagination, detail ----------------------------------------------------


def test_browser_gets_the_browsable_api(client):
    response = client.get("/fruits/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Product List" in response.content


def test_logged_in_browser_user_gets_the_post_form_with_a_content_field(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="a-long-test-password")
    client.force_login(user)
    response = client.get("/fruits/", HTTP_ACCEPT="text/html")
    assert b'name="_content"' in response.content  # the "Content" text area of the raw form
    assert b"Content:" in response.content


def test_logged_in_browser_user_can_post_through_the_form(django_user_model):
    """The course's flow: paste JSON into the Content field and click POST. The
    browsable API's script sends the Content as the request body with its media type
    and the CSRF token from the page."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("clerk", password="a-long-test-password")
    browser.force_login(user)
    page = browser.get("/fruits/", HTTP_ACCEPT="text/html")
    csrf = page.cookies["csrftoken"].value
    response = post_json(browser, "/fruits/", WATERMELON, HTTP_ACCEPT="text/html", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content[:300]
    assert Product.objects.filter(name="Watermelon").exists()


def test_session_post_without_csrf_token_is_refused(django_user_model):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("clerk", password="a-long-test-password")
    csrf_client.force_login(user)
    response = post_json(csrf_client, "/fruits/", WATERMELON)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_pagination_only_when_asked(client, auth):
    for i in range(5):
        post_json(client, "/fruits/", {**WATERMELON, "name": f"Fruit {i}"}, **auth)
    assert len(client.get("/fruits/").json()) == 5
    assert len(client.get("/fruits/?page_size=2").json()) == 5  # no page= -> plain list
    page = client.get("/fruits/?page=2&page_size=2").json()
    assert page["count"] == 5
    assert [p["name"] for p in page["results"]] == ["Fruit 2", "Fruit 3"]
    assert page["next"].endswith("/fruits/?page=3&page_size=2")
    assert client.get("/fruits/?page=9").status_code == 404


def test_detail_get_put_patch_delete(client, auth):
    created = post_json(client, "/fruits/", WATERMELON, **auth).json()
    url = f"/fruits/{created['id']}/"
    assert client.get(url).json() == created
    assert client.patch(url, json.dumps({"weight": 1}), content_type="application/json").status_code == 401
    response = client.patch(url, json.dumps({"weight": 1}), content_type="application/json", **auth)
    assert response.status_code == 200 and response.json()["weight"] == 1
    assert client.get("/fruits/").json()[0]["weight"] == 1
    assert client.delete(url).status_code == 401
    assert client.delete(url, **auth).status_code == 204
    assert client.get("/fruits/").json() == []


def test_rename_to_an_existing_name_is_409(client, auth):
    post_json(client, "/fruits/", WATERMELON, **auth)
    other = post_json(client, "/fruits/", {**WATERMELON, "name": "Apple"}, **auth).json()
    response = client.patch(
        f"/fruits/{other['id']}/", json.dumps({"name": "Watermelon"}), content_type="application/json", **auth
    )
    assert response.status_code == 409
    assert response.json() == {"code": "duplicate", "name": ["A product with this name already exists."]}


# --- control characters and the limits the client mirrors (README: "Validation limits") ------


@pytest.mark.parametrize(
    "name",
    [
        "Apple\x1b[31m",
        "Apple\nPie",
        "Apple\tPie",
        "Apple\x7f",
        "Apple\x85",
        "Apple\x1f",
        "\x1cApple",
        "Apple\r",
        "Apple\x00",
        "Apple\x9f",
    ],
)
def test_control_characters_in_a_name_are_400(client, auth, name):
    response = post_json(client, "/fruits/", {**WATERMELON, "name": name}, **auth)
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Product.objects.exists()


def test_the_control_character_error_says_which_and_where(client, auth):
    response = post_json(client, "/fruits/", {**WATERMELON, "name": "Ap\x1bple"}, **auth)
    assert response.json() == {"name": ["Control characters are not allowed (found U+001B at character 3)."]}


@pytest.mark.parametrize("description", ["bell\x07", "nul\x00", "cr\r\nlf", "esc\x1b[0m", "c1\x90", "del\x7f"])
def test_control_characters_in_a_description_are_400(client, auth, description):
    response = post_json(client, "/fruits/", {**WATERMELON, "description": description}, **auth)
    assert response.status_code == 400
    assert "description" in response.json()


def test_tab_and_newline_are_fine_in_a_description(client, auth):
    text = "First line.\n\tIndented second line.\nThird\u2028line."
    response = post_json(client, "/fruits/", {**WATERMELON, "description": text}, **auth)
    assert response.status_code == 201, response.content
    assert Product.objects.get().description == text


def test_patch_with_a_control_character_is_400(client, auth):
    created = post_json(client, "/fruits/", WATERMELON, **auth).json()
    response = client.patch(
        f"/fruits/{created['id']}/", json.dumps({"name": "X\x1by"}), content_type="application/json", **auth
    )
    assert response.status_code == 400
    assert Product.objects.get().name == "Watermelon"


@pytest.mark.parametrize("name", ["Арбуз", "西瓜", "Καρπούζι", "Pastèque 🍉", "a" * 200])
def test_non_latin_and_longest_names_are_accepted(client, auth, name):
    response = post_json(client, "/fruits/", {**WATERMELON, "name": name}, **auth)
    assert response.status_code == 201, response.content
    assert client.get("/fruits/").json()[0]["name"] == name


def test_name_longer_than_200_characters_is_400(client, auth):
    response = post_json(client, "/fruits/", {**WATERMELON, "name": "a" * 201}, **auth)
    assert response.status_code == 400
    assert response.json() == {"name": ["Ensure this field has no more than 200 characters."]}


def test_white_space_around_name_and_description_is_stripped(client, auth):
    response = post_json(client, "/fruits/", {**WATERMELON, "name": "  Melon ", "description": " d \n"}, **auth)
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["description"]) == ("Melon", "d")


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_name_is_400(client, auth, name):
    assert post_json(client, "/fruits/", {**WATERMELON, "name": name}, **auth).status_code == 400


def test_description_limit_is_20000_characters(client, auth):
    assert post_json(client, "/fruits/", {**WATERMELON, "description": "x" * 20_000}, **auth).status_code == 201
    response = post_json(client, "/fruits/", {**WATERMELON, "name": "Other", "description": "x" * 20_001}, **auth)
    assert response.status_code == 400


@pytest.mark.parametrize("weight", [0, 2_147_483_647])
def test_weight_bounds_are_accepted(client, auth, weight):
    assert post_json(client, "/fruits/", {**WATERMELON, "weight": weight}, **auth).status_code == 201


@pytest.mark.parametrize(
    "image_name", ["a" * 251 + ".jpeg", "é" * 126 + ".jpg", " x.jpeg", "x\u200b.jpeg", "x\\y.jpeg"]
)
def test_image_name_limits(client, auth, image_name):
    """255 UTF-8 bytes at most, no white space around it, no invisible/format characters, no backslash."""
    response = post_json(client, "/fruits/", {**WATERMELON, "image_name": image_name}, **auth)
    assert response.status_code == 400
    assert "image_name" in response.json()


def test_image_name_of_255_bytes_is_accepted(client, auth):
    name = "a" * 250 + ".jpeg"
    assert len(name.encode()) == 255
    assert post_json(client, "/fruits/", {**WATERMELON, "image_name": name}, **auth).status_code == 201
