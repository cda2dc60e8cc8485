"""Aggregated OpenAPI: the gateway's routes plus each reachable service's, behind Swagger UI at /docs."""


from conftest import free_port

from gateway.docs import merge


async def test_openapi_merges_the_services_and_skips_one_that_is_down(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with(medical_url=f"http://127.0.0.1:{free_port()}") as http:
        document = (await http.get("/openapi.json")).json()
        ui = await http.get("/docs")

    assert "/oauth/token" in document["paths"] and "/.well-known/jwks.json" in document["paths"]
    assert "/registry/households/{household_id}" in document["paths"]
    assert document["x-fupin-services"]["medical"] == "unavailable"
    assert document["x-fupin-services"]["registry"] == "ok"
    assert document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == (
        "/oauth/token")
    assert ui.status_code == 200 and "swagger" in ui.text.lower() and "/openapi.json" in ui.text


def test_a_schema_two_services_define_differently_is_renamed_with_its_references() -> None:
    def spec(path: str, schema: dict[str, object]) -> dict[str, object]:
        ref = {"$ref": "#/components/schemas/Answer"}
        return {"paths": {path: {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}}},
                "components": {"schemas": {"Answer": schema}}}

    merged = merge({"paths": {}}, {"registry": spec("/registry/a", {"type": "object"}),
                                   "finance": spec("/finance/b", {"type": "string"})})

    assert merged["components"]["schemas"]["Answer"] == {"type": "object"}
    assert merged["components"]["schemas"]["finance_Answer"] == {"type": "string"}
    finance_ref = merged["paths"]["/finance/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert finance_ref == {"$ref": "#/components/schemas/finance_Answer"}
    assert merged["paths"]["/finance/b"]["get"]["tags"] == ["finance"]
