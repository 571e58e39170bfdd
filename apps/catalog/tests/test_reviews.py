"""/feedback/: the course's review endpoint (Module 2's corpweb)."""

import json

import pytest

from catalog_site.shop.models import Review

pytestmark = pytest.mark.django_db

REVIEW = {
    "title": "Experienced salespeople",
    "name": "Alex H.",
    "date": "2020-02-02",
    "feedback": "It was great to talk to the salespeople in the team, they understood my needs.",
}


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_empty_list(client):
    response = client.get("/feedback/")
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("url", ["/feedback", "/feedback/"])
def test_create_returns_201_and_is_listed(client, auth, url):
    response = post_json(client, url, REVIEW, **auth)
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in REVIEW} == REVIEW
    listed = client.get("/feedback/").json()
    assert listed == [response.json()]


def test_without_token_401_wrong_token_401(client, token):
    assert post_json(client, "/feedback/", REVIEW).status_code == 401
    assert post_json(client, "/feedback/", REVIEW, HTTP_AUTHORIZATION="Token nope").status_code == 401
    assert post_json(client, "/feedback/", REVIEW, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not Review.objects.exists()


def test_duplicate_is_409_with_a_code_and_the_error(client, auth):
    assert post_json(client, "/feedback/", REVIEW, **auth).status_code == 201
    response = post_json(client, "/feedback/", {**REVIEW, "feedback": "other text"}, **auth)
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate",
        "non_field_errors": ["A review with this title, name and date already exists."],
    }
    assert Review.objects.count() == 1


def test_duplicate_from_a_race_is_still_409(client, auth, monkeypatch):
    from rest_framework.validators import UniqueTogetherValidator

    post_json(client, "/feedback/", REVIEW, **auth)
    monkeypatch.setattr(UniqueTogetherValidator, "__call__", lambda self, attrs, serializer: None)
    response = post_json(client, "/feedback/", REVIEW, **auth)
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate",
        "non_field_errors": ["A review with this title, name and date already exists."],
    }
    assert Review.objects.count() == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", "Great\x1b[31m"),
        ("name", "Alex\nH."),
        ("name", "Alex\tH."),
        ("feedback", "Good\x00 fruit"),
        ("feedback", "line\r\nline"),
        ("feedback", "bell\x07"),
        ("title", "C1\x85here"),
    ],
)
def test_control_characters_are_400(client, auth, field, value):
    response = post_json(client, "/feedback/", {**REVIEW, field: value}, **auth)
    assert response.status_code == 400
    assert field in response.json()
    assert not Review.objects.exists()


def test_tab_and_newline_are_fine_in_the_feedback(client, auth):
    response = post_json(client, "/feedback/", {**REVIEW, "feedback": "Line one\n\tLine two"}, **auth)
    assert response.status_code == 201, response.content
    assert Review.objects.get().feedback == "Line one\n\tLine two"


@pytest.mark.parametrize("change", [{"title": "Other"}, {"name": "Sam"}, {"date": "2020-02-03"}])
def test_differs_in_one_key_field_is_a_new_review(client, auth, change):
    post_json(client, "/feedback/", REVIEW, **auth)
    assert post_json(client, "/feedback/", {**REVIEW, **change}, **auth).status_code == 201


@pytest.mark.parametrize("date", ["02/02/2020", "2020-2-2x", "2020-13-01", "yesterday", "2020-02-02T10:00:00"])
def test_bad_date_is_400(client, auth, date):
    response = post_json(client, "/feedback/", {**REVIEW, "date": date}, **auth)
    assert response.status_code == 400
    assert list(response.json()) == ["date"]


@pytest.mark.parametrize("missing", list(REVIEW))
def test_missing_field_is_400(client, auth, missing):
    data = {k: v for k, v in REVIEW.items() if k != missing}
    response = post_json(client, "/feedback/", data, **auth)
    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_newest_first(client, auth):
    post_json(client, "/feedback/", {**REVIEW, "date": "2019-01-01"}, **auth)
    post_json(client, "/feedback/", {**REVIEW, "date": "2021-01-01"}, **auth)
    assert [r["date"] for r in client.get("/feedback/").json()] == ["2021-01-01", "2019-01-01"]


def test_browsable_api(client):
    response = client.get("/feedback/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    assert b"Review List" in response.content


def test_pagination_only_when_asked(client, auth):
    for day in range(1, 4):
        post_json(client, "/feedback/", {**REVIEW, "date": f"2020-02-0{day}"}, **auth)
    assert isinstance(client.get("/feedback/").json(), list)
    page = client.get("/feedback/?page=1&page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2


def test_detail_delete(client, auth):
    created = post_json(client, "/feedback/", REVIEW, **auth).json()
    assert client.delete(f"/feedback/{created['id']}", **auth).status_code == 204
    assert client.get("/feedback/").json() == []
