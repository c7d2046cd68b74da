def test_live_answers_ok_with_request_id(client):
    response = client.http.get("/health/live")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}
    assert response.headers["X-Request-Id"]


def test_unknown_route_is_404_not_found(client):
    response = client.http.get("/v1/nope")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "NOT_FOUND"
