#!/usr/bin/env python3
"""Writes jqlgate.postman_collection.json: edit the requests here, run it, commit both."""
import json

def jql(name, meta, fields=None, tests=(), prerequest=None):
    body = {"__meta__": meta}
    body.update(fields or {})
    item = {
        "name": name,
        "request": {
            "method": "POST",
            "header": [{"key": "Content-Type", "value": "application/json"}],
            "url": "{{baseUrl}}/jql",
            "body": {"mode": "raw", "raw": json.dumps(body, indent=2)},
        },
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": list(tests)}}],
    }
    if prerequest:
        item["event"].insert(0, {"listen": "prerequest", "script": {"type": "text/javascript", "exec": list(prerequest)}})
    return item

def m(ns, schema, intent, token="{{token}}", **extra):
    d = {"namespace": ns, "schema": schema, "intent": intent, "authenticationClass": "oauth2", "authenticationToken": token}
    d.update(extra)
    return d

ok = [
    'pm.test("200 OK envelope", function () {',
    '  pm.response.to.have.status(200);',
    '  var b = pm.response.json();',
    '  pm.expect(b.status).to.eql("OK");',
    '  pm.expect(b.errors).to.eql(null);',
    '  pm.expect(b.il8n).to.eql("en-gb");',
    '});',
]

def err(status, code):
    return [
        f'pm.test("{status} {code}", function () {{',
        f'  pm.response.to.have.status({status});',
        '  var b = pm.response.json();',
        '  pm.expect(b.status).to.eql("ERROR");',
        f'  pm.expect(b.errors[0].errorCode).to.eql("{code}");',
        '});',
    ]

items = [
    {
        "name": "Get a token (client credentials)",
        "request": {
            "method": "POST",
            "auth": {"type": "basic", "basic": [
                {"key": "username", "value": "{{clientId}}", "type": "string"},
                {"key": "password", "value": "{{clientSecret}}", "type": "string"}]},
            "header": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}],
            "url": "{{baseUrl}}/oauth2/token",
            "body": {"mode": "urlencoded", "urlencoded": [{"key": "grant_type", "value": "client_credentials"}]},
        },
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
            'pm.test("token issued", function () {',
            '  pm.response.to.have.status(200);',
            '  var b = pm.response.json();',
            '  pm.expect(b.token_type).to.eql("Bearer");',
            '  pm.expect(b.expires_in).to.be.above(0);',
            '  pm.collectionVariables.set("token", b.access_token);',
            '});',
        ]}}],
    },
    {
        "name": "Token with a wrong secret is refused",
        "request": {
            "method": "POST",
            "header": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}],
            "url": "{{baseUrl}}/oauth2/token",
            "body": {"mode": "urlencoded", "urlencoded": [
                {"key": "grant_type", "value": "client_credentials"},
                {"key": "client_id", "value": "{{clientId}}"},
                {"key": "client_secret", "value": "not-the-secret"}]},
        },
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
            'pm.test("401 invalid_client", function () {',
            '  pm.response.to.have.status(401);',
            '  pm.expect(pm.response.json().error).to.eql("invalid_client");',
            '});',
        ]}}],
    },
    jql("Create a customer", m("profile.Customer", "model", "create", **{"return": {"id": None, "name": None, "email": None}}),
        {"name": "Ada Lovelace", "email": "ada.{{$timestamp}}@example.com", "status": "active"},
        ok + ['var b = pm.response.json();', 'pm.test("id returned", function () { pm.expect(b.data.id).to.be.a("string"); });',
              'pm.collectionVariables.set("customerId", b.data.id);', 'pm.collectionVariables.set("customerEmail", b.data.email);']),
    jql("Duplicate email is a conflict", m("profile.Customer", "model", "create"),
        {"name": "Ada Again", "email": "{{customerEmail}}"}, err(409, "JQL:ConflictException")),
    jql("Missing required fields are all reported", m("profile.Customer", "model", "create"), {},
        err(400, "JQL:JqlException") + ['pm.test("fields named", function () { var f = pm.response.json().errors.map(function (e) { return e.field; }); pm.expect(f).to.include("name"); pm.expect(f).to.include("email"); });']),
    jql("Retrieve the customer", m("profile.Customer", "model", "retrieve", uniqueObject={"id": "{{customerId}}"}), {},
        ok + ['pm.test("the customer", function () { pm.expect(pm.response.json().data.name).to.eql("Ada Lovelace"); });']),
    jql("Retrieve customers with a filter", m("profile.Customer", "model", "retrieve", filter={"status": "active"}, ordering=["-created_at"], limit=10, offset=0, draw=3),
        {"id": None, "name": None},
        ok + ['pm.test("filtered list", function () { var b = pm.response.json(); pm.expect(b.data).to.be.an("array"); pm.expect(b.extras.filtered).to.be.above(0); });']),
    jql("Update the customer", m("profile.Customer", "model", "update", uniqueObject={"id": "{{customerId}}"}, **{"return": {"id": None, "name": None}}),
        {"name": "Ada King"}, ok + ['pm.test("updated", function () { pm.expect(pm.response.json().data.name).to.eql("Ada King"); });']),
    jql("Subscribe a webhook (Antly's example)", m("system.Webhook", "controller", "subscribeToWebhook"),
        {"prefix": "PostmanApp", "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}"},
        ok + ['var b = pm.response.json();', 'pm.test("secret issued", function () { pm.expect(b.data.secret).to.match(/^whsec_/); });',
              'pm.collectionVariables.set("webhookId", b.data.id);', 'pm.collectionVariables.set("webhookSecret", b.data.secret);']),
    jql("Subscribing to a private address is refused", m("system.Webhook", "controller", "subscribeToWebhook"),
        {"prefix": "Evil", "trigger": "profile.Customer:create", "webhookUrl": "http://169.254.169.254/latest/meta-data"},
        err(400, "JQL:JqlException")),
    jql("List my webhooks", m("system.Webhook", "controller", "listWebhooks"), {},
        ok + ['pm.test("listed", function () { pm.expect(pm.response.json().data.length).to.be.above(0); });']),
    jql("Create a customer to trigger the webhook", m("profile.Customer", "model", "create"),
        {"name": "Grace Hopper", "email": "grace.{{$timestamp}}@example.com"}, ok),
    # Delivery is asynchronous: poll the logs (up to 30 times, 0.5 s apart)
    # until the receiver's 200 is logged as Done, then assert on it.
    jql("Read the webhook logs", m("system.Webhook", "controller", "getWebhookLogs"), {"id": "{{webhookId}}", "event": "profile.Customer:create"},
        ['var b = pm.response.json();',
         'var polls = Number(pm.collectionVariables.get("logPolls") || 0);',
         'var done = Array.isArray(b.data) && b.data.some(function (a) { return a.status === "Done"; });',
         'if (!done && b.status === "OK" && polls < 30) {',
         '  pm.collectionVariables.set("logPolls", polls + 1);',
         '  postman.setNextRequest(pm.info.requestName);',
         '} else {',
         ] + ['  ' + line for line in ok] + [
         '  pm.test("the webhook was delivered and logged as Done", function () {',
         '    pm.expect(b.data).to.be.an("array");',
         '    var a = b.data.filter(function (a) { return a.status === "Done"; })[0];',
         '    pm.expect(a, "a Done attempt after " + polls + " polls").to.be.an("object");',
         '    pm.expect(a.event).to.eql("profile.Customer:create");',
         '    pm.expect(a.response.code).to.eql(200);',
         '    pm.expect(a.request.headers["webhook-signature"]).to.match(/^v1,/);',
         '  });',
         '}'],
        prerequest=['if (Number(pm.collectionVariables.get("logPolls") || 0) > 0) { setTimeout(function () {}, 500); }']),
    jql("Rotate the webhook secret", m("system.Webhook", "controller", "rotateWebhookSecret"), {"id": "{{webhookId}}"},
        ok + ['pm.test("new secret", function () { var s = pm.response.json().data.secret; pm.expect(s).to.match(/^whsec_/); pm.expect(s).to.not.eql(pm.collectionVariables.get("webhookSecret")); });']),
    jql("Unsubscribe (Antly's form)", m("system.Webhook", "controller", "unsubscribeFromWebhook"),
        {"prefix": "PostmanApp", "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}"}, ok),
    jql("Unsubscribing again is not found", m("system.Webhook", "controller", "unsubscribeFromWebhook"),
        {"prefix": "PostmanApp", "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}"}, err(404, "JQL:NotFoundException")),
    jql("Delete the customer", m("profile.Customer", "model", "deleteOne", uniqueObject={"id": "{{customerId}}"}), {}, ok),
    jql("The deleted customer is not found", m("profile.Customer", "model", "retrieve", uniqueObject={"id": "{{customerId}}"}), {},
        err(404, "JQL:NotFoundException")),
    jql("No token is 401", {"namespace": "profile.Customer", "schema": "model", "intent": "retrieve"}, {}, err(401, "JQL:AuthenticationException")),
    jql("A bad token is 401", m("profile.Customer", "model", "retrieve", token="not.a.token"), {}, err(401, "JQL:AuthenticationException")),
    jql("Unknown namespace is 404", m("nothing.Here", "model", "retrieve"), {}, err(404, "JQL:NotFoundException")),
    jql("Unknown intent is 400", m("profile.Customer", "model", "explode"), {}, err(400, "JQL:JqlException")),
    {
        "name": "Malformed JSON is 400",
        "request": {"method": "POST", "header": [{"key": "Content-Type", "value": "application/json"}],
                    "url": "{{baseUrl}}/jql", "body": {"mode": "raw", "raw": "{\"__meta__\": {"}},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": err(400, "JQL:JqlException")}}],
    },
]

collection = {
    "info": {"name": "jqlgate", "description": "jqlgate's JQL API end to end: token, customers, webhooks, errors. Run top to bottom.",
             "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": items,
    "variable": [{"key": k, "value": ""} for k in ("token", "customerId", "customerEmail", "webhookId", "webhookSecret", "logPolls")],
}
env = {"name": "jqlgate local", "values": [
    {"key": "baseUrl", "value": "http://127.0.0.1:8080", "enabled": True},
    {"key": "clientId", "value": "admin", "enabled": True},
    {"key": "clientSecret", "value": "change-me-admin-secret", "enabled": True},
    {"key": "receiverUrl", "value": "http://127.0.0.1:9000/webhooks", "enabled": True},
]}
with open("jqlgate.postman_collection.json", "w") as f:
    json.dump(collection, f, indent=2)
    f.write("\n")
with open("jqlgate.postman_environment.json", "w") as f:
    json.dump(env, f, indent=2)
    f.write("\n")
