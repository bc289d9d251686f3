def test_me_returns_the_callers_staff_id_role_and_organisation(api_client_for, alice_practitioner):
    response = api_client_for(alice_practitioner).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["id"] == str(alice_practitioner.id)
    assert response.json()["role"] == "practitioner"
    assert response.json()["organisation"]["slug"] == "bath-physio"
