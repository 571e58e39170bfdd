"""The course's own scripts, run against a live server, with only the token header added.

* Module 4 ``example_upload.py``: ``requests.post(url + "/upload/", files={"file": f})``.
* Module 4 ``run.py``: turn ``supplier-data/descriptions/*.txt`` (name, "500 lbs",
  description) into ``{name, weight, description, image_name}`` and POST it to ``/fruits``.
* Module 2 ``run.py``: turn ``/data/feedback/*.txt`` (title, name, date, feedback) into a
  dict and POST it to ``/feedback``.
"""

import os

import pytest
import requests

from tests.helpers import make_image

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def supplier_data(tmp_path):
    images = tmp_path / "supplier-data" / "images"
    descriptions = tmp_path / "supplier-data" / "descriptions"
    images.mkdir(parents=True)
    descriptions.mkdir(parents=True)
    fruits = [
        ("001", "Apple", "500 lbs", "Apple is one of the most nutritious and healthy fruits."),
        ("002", "Avocado", "200 lbs", "Avocado is a fruit with a high fat content."),
        ("010", "Watermelon", "500 lbs", "Watermelon is good for relieving heat."),
    ]
    for number, name, weight, description in fruits:
        (descriptions / f"{number}.txt").write_text(f"{name}\n{weight}\n{description}\n")
        (images / f"{number}.jpeg").write_bytes(make_image("JPEG", size=(600, 400), color=(int(number), 120, 60)))
    return tmp_path / "supplier-data"


def example_upload(url, path, token):
    # example_upload.py, verbatim but for the headers argument
    with open(path, "rb") as opened:
        return requests.post(url + "/upload/", files={"file": opened}, headers={"Authorization": f"Token {token}"})


def fruits_run_py(url, descriptions_dir, token, endpoint="/fruits"):
    responses = []
    for file_name in sorted(os.listdir(descriptions_dir)):
        with open(os.path.join(descriptions_dir, file_name)) as text:
            lines = [line.strip() for line in text.readlines()]
        fruit = {
            "name": lines[0],
            "weight": int(lines[1].strip(" lbs")),
            "description": lines[2],
            "image_name": file_name.replace(".txt", ".jpeg"),
        }
        responses.append(requests.post(url + endpoint, json=fruit, headers={"Authorization": f"Token {token}"}))
    return responses


def test_example_upload_and_run_py(live_server, token, media_root, supplier_data):
    url = live_server.url
    # images first (supplier_image_upload.py = example_upload.py in a loop)
    for image in sorted((supplier_data / "images").iterdir()):
        response = example_upload(url, image, token)
        assert response.status_code == 201, response.text
    assert sorted(os.listdir(media_root / "images")) == ["001.jpeg", "002.jpeg", "010.jpeg"]

    # then the descriptions, to the path the course gives (no trailing slash)
    responses = fruits_run_py(url, supplier_data / "descriptions", token)
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text for r in responses]

    listed = requests.get(url + "/fruits/").json()  # requests sends Accept: */*
    assert [(p["name"], p["weight"], p["image_name"]) for p in listed] == [
        ("Apple", 500, "001.jpeg"),
        ("Avocado", 200, "002.jpeg"),
        ("Watermelon", 500, "010.jpeg"),
    ]
    home = requests.get(url + "/")
    assert home.status_code == 200
    assert '<img src="/media/images/010.jpeg" alt="Watermelon"' in home.text
    assert "500 lbs" in home.text
    image = requests.get(url + "/media/images/010.jpeg")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert image.content == (supplier_data / "images" / "010.jpeg").read_bytes()

    # the course's script run a second time: refused as duplicates, nothing doubled
    again = fruits_run_py(url, supplier_data / "descriptions", token, endpoint="/fruits/")
    # The script ignores the status; a duplicate is a 409 with the course's field error kept.
    assert {r.status_code for r in again} == {409}
    assert again[0].json() == {"code": "duplicate", "name": ["A product with this name already exists."]}
    assert len(requests.get(url + "/fruits").json()) == 3
    # and re-uploading the same images changes nothing
    assert example_upload(url, supplier_data / "images" / "001.jpeg", token).json()["result"] == "unchanged"


def test_scripts_without_the_token_are_refused(live_server, media_root, supplier_data):
    url = live_server.url
    with open(supplier_data / "images" / "001.jpeg", "rb") as opened:
        assert requests.post(url + "/upload/", files={"file": opened}).status_code == 401
    response = requests.post(url + "/fruits", json={"name": "X", "weight": 1, "description": "", "image_name": ""})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_feedback_run_py(live_server, token, tmp_path):
    """Module 2: /data/feedback/*.txt -> POST http://<corpweb>/feedback."""
    feedback_dir = tmp_path / "feedback"
    feedback_dir.mkdir()
    (feedback_dir / "001.txt").write_text(
        "Experienced salespeople\nAlex H.\n2020-02-02\nIt was great to talk to the salespeople in the team.\n"
    )
    (feedback_dir / "002.txt").write_text("Great service\nJohn S.\n2017-12-21\nThe car was fixed in one day.\n")
    url = live_server.url
    for file_name in sorted(os.listdir(feedback_dir)):
        with open(feedback_dir / file_name) as text:
            title, name, date, feedback = (line.strip() for line in text.readlines()[:4])
        review = {"title": title, "name": name, "date": date, "feedback": feedback}
        # learners send it as JSON or as a form; both must work
        kwargs = {"json": review} if file_name == "001.txt" else {"data": review}
        response = requests.post(url + "/feedback", headers={"Authorization": f"Token {token}"}, **kwargs)
        assert response.status_code == 201, response.text
    home = requests.get(url + "/").text
    assert "Experienced salespeople" in home and "Great service" in home
    assert [r["title"] for r in requests.get(url + "/feedback/").json()] == ["Experienced salespeople", "Great service"]
