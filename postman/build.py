#!/usr/bin/env python3
"""Writes jqlgate.postman_collection.json and jqlgate.postman_environment.json.

Edit the requests here, run `python3 build.py` in this folder, commit all three files.
test/postman_test.go checks that every intent `system.Schema describe` lists is called here.
"""
import json

# --- helpers -----------------------------------------------------------------


def script(lines):
    return {"type": "text/javascript", "exec": list(lines)}


def jql(name, meta, fields=None, tests=(), prerequest=None, description=None):
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
        "event": [{"listen": "test", "script": script(tests)}],
    }
    if description:
        item["request"]["description"] = description
    if prerequest:
        item["event"].insert(0, {"listen": "prerequest", "script": script(prerequest)})
    return item


def m(ns, schema, intent, token="{{token}}", cls="oauth2", **extra):
    d = {"namespace": ns, "schema": schema, "intent": intent, "authenticationClass": cls, "authenticationToken": token}
    d.update(extra)
    return d


def wh(intent, **extra):
    return m("system.Webhook", "controller", intent, **extra)


def site(intent, **extra):
    return m("system.TrustedSite", "controller", intent, **extra)


def cust(intent, **extra):
    return m("profile.Customer", "model", intent, **extra)


def folder(name, description, items):
    return {"name": name, "description": description, "item": items}


def ok(message=None):
    lines = [
        'pm.test("200 OK envelope", function () {',
        '  pm.response.to.have.status(200);',
        '  var b = pm.response.json();',
        '  pm.expect(b.status).to.eql("OK");',
        '  pm.expect(b.errors).to.eql(null);',
        '  pm.expect(b.il8n).to.eql("en-gb");',
        '  pm.expect(b.extras).to.be.an("object");',
    ]
    if message:
        lines.append(f'  pm.expect(b.message).to.eql({json.dumps(message)});')
    return lines + ['});', 'var b = pm.response.json();']


def err(status, code, field=None):
    lines = [
        f'pm.test("{status} {code}' + (f' on {field}' if field else '') + '", function () {',
        f'  pm.response.to.have.status({status});',
        '  var b = pm.response.json();',
        '  pm.expect(b.status).to.eql("ERROR");',
        '  pm.expect(b.data).to.eql(null);',
        f'  pm.expect(b.errors[0].errorCode).to.eql("{code}");',
    ]
    if field:
        lines.append(f'  pm.expect(b.errors.map(function (e) {{ return e.field; }})).to.include("{field}");')
    return lines + ['});']


def test(name, *body):
    return [f'pm.test({json.dumps(name)}, function () {{'] + ['  ' + line for line in body] + ['});']


def save(var, expr):
    return [f'pm.collectionVariables.set("{var}", {expr});']


# A JQL call from inside a script (pm.sendRequest), with the cached token.
JQL_HELPER = [
    'function jql(meta, fields, cb) {',
    '  var body = Object.assign({}, fields || {});',
    '  body.__meta__ = Object.assign({ schema: "controller", authenticationClass: "oauth2", authenticationToken: pm.collectionVariables.get("token") }, meta);',
    '  pm.sendRequest({ url: pm.variables.get("baseUrl") + "/jql", method: "POST", header: { "Content-Type": "application/json" },',
    '    body: { mode: "raw", raw: JSON.stringify(body) } }, function (e, res) { cb(e, res ? res.json() : null); });',
    '}',
]


def poll(meta, fields, until, then, tries=60, every_ms=250):
    """Calls meta/fields until the JS expression `until` (over answer b) holds,
    at most `tries` times `every_ms` apart, then runs `then` (with b, the last
    answer, and n, the calls made): a bounded wait without setNextRequest."""
    return JQL_HELPER + [
        f'var meta = {json.dumps(meta)}, fields = {json.dumps(fields)};',
        'fields = JSON.parse(pm.variables.replaceIn(JSON.stringify(fields)));',
        'function poll(n) {',
        '  jql(meta, fields, function (e, b) {',
        f'    if ((!e && b && ({until})) || n >= {tries}) {{ then(b, n); return; }}',
        f'    setTimeout(function () {{ poll(n + 1); }}, {every_ms});',
        '  });',
        '}',
        'function then(b, n) {',
    ] + ['  ' + line for line in then] + ['}', 'poll(1);']


# --- collection-level scripts --------------------------------------------------

# Every request gets a client-credentials token first when none is cached or
# the cached one expires within a minute (the OAuth2 requests themselves excepted).
COLLECTION_PREREQUEST = [
    'var url = pm.request.url.toString();',
    'var token = pm.collectionVariables.get("token");',
    'var expiresAt = Number(pm.collectionVariables.get("tokenExpiresAt") || 0);',
    'if (url.indexOf("/oauth2/") === -1 && (!token || Date.now() > expiresAt - 60000)) {',
    '  pm.sendRequest({',
    '    url: pm.variables.get("baseUrl") + "/oauth2/token", method: "POST",',
    '    header: { "Content-Type": "application/x-www-form-urlencoded" },',
    '    body: { mode: "urlencoded", urlencoded: [',
    '      { key: "grant_type", value: "client_credentials" },',
    '      { key: "client_id", value: pm.variables.get("clientId") },',
    '      { key: "client_secret", value: pm.variables.get("clientSecret") }] }',
    '  }, function (e, res) {',
    '    if (e || res.code !== 200) {',
    '      console.error("jqlgate: no token from " + pm.variables.get("baseUrl") + "/oauth2/token for client " + pm.variables.get("clientId") + ": " + (e || res.code + " " + res.text()));',
    '      return;',
    '    }',
    '    var t = res.json();',
    '    pm.collectionVariables.set("token", t.access_token);',
    '    pm.collectionVariables.set("tokenExpiresAt", Date.now() + t.expires_in * 1000);',
    '  });',
    '}',
]

# --- items ---------------------------------------------------------------------

token_items = [
    {
        "name": "Get a token (client credentials, basic auth)",
        "request": {
            "method": "POST",
            "auth": {"type": "basic", "basic": [
                {"key": "username", "value": "{{clientId}}", "type": "string"},
                {"key": "password", "value": "{{clientSecret}}", "type": "string"}]},
            "header": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}],
            "url": "{{baseUrl}}/oauth2/token",
            "body": {"mode": "urlencoded", "urlencoded": [{"key": "grant_type", "value": "client_credentials"}]},
        },
        "event": [{"listen": "test", "script": script([
            'pm.test("token issued", function () {',
            '  pm.response.to.have.status(200);',
            '  var b = pm.response.json();',
            '  pm.expect(b.token_type).to.eql("Bearer");',
            '  pm.expect(b.expires_in).to.be.above(0);',
            '  pm.expect(b.access_token.split(".").length).to.eql(3);',
            '  pm.collectionVariables.set("token", b.access_token);',
            '  pm.collectionVariables.set("tokenExpiresAt", Date.now() + b.expires_in * 1000);',
            '});',
        ])}],
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
        "event": [{"listen": "test", "script": script(test("401 invalid_client",
            'pm.response.to.have.status(401);',
            'pm.expect(pm.response.json().error).to.eql("invalid_client");'))}],
    },
    jql("Describe every namespace (public, no token)", {"namespace": "system.Schema", "schema": "controller", "intent": "describe"}, {},
        ok() + test("namespaces and intents listed",
            'var names = b.data.map(function (n) { return n.namespace; });',
            'pm.expect(names).to.include.members(["profile.Customer", "system.Webhook", "system.TrustedSite", "system.Client", "system.ApiKey", "system.User", "system.Schema"]);',
            'var webhook = b.data.filter(function (n) { return n.namespace === "system.Webhook"; })[0];',
            'var sub = webhook.intents.filter(function (i) { return i.intent === "subscribeToWebhook"; })[0];',
            'pm.expect(sub.fields.map(function (f) { return f.name; })).to.include.members(["prefix", "trigger", "triggers", "webhookUrl", "secret"]);')),
    # The cached token is marked as about to expire; the next request's
    # collection pre-request script must fetch a new one.
    jql("The token is refreshed before it expires", cust("retrieve", limit=1), {},
        ok() + ['pm.collectionVariables.set("previousToken", pm.collectionVariables.get("token"));',
                'pm.collectionVariables.set("tokenExpiresAt", Date.now() + 30000);']),
    jql("Requests go on with the refreshed token", cust("retrieve", limit=1), {},
        ok() + test("a new token was fetched",
            'pm.expect(pm.collectionVariables.get("token")).to.not.eql(pm.collectionVariables.get("previousToken"));',
            'pm.expect(Number(pm.collectionVariables.get("tokenExpiresAt"))).to.be.above(Date.now() + 60000);')),
]

# Which secret the collection's own subscriptions to the receiver are signed
# with (given as `secret` at subscribe): the environment's receiverSecret if
# set; else the secret of a subscription of yours that already points at
# receiverUrl (the quickstart's, so `jqlgate listen --secret whsec_…` started
# for it verifies the collection's deliveries too); else a fresh random one
# (a receiver without --secret accepts any).
choose_secret = jql(
    "Choose the receiver's signing secret (listWebhooks)", wh("listWebhooks", limit=100), {},
    ok() + JQL_HELPER + [
        'var receiverUrl = pm.variables.get("receiverUrl");',
        'pm.collectionVariables.set("receiverOrigin", receiverUrl.match(/^https?:\\/\\/[^\\/]+/)[0]);',
        'pm.collectionVariables.set("runId", String(Date.now()));',
        'function randomSecret() {',
        '  var bytes = [];',
        '  try { var w = require("crypto-js").lib.WordArray.random(32); for (var i = 0; i < 32; i++) bytes.push((w.words[i >>> 2] >>> (24 - (i % 4) * 8)) & 0xff); }',
        '  catch (e) { bytes = []; for (var j = 0; j < 32; j++) bytes.push(Math.floor(Math.random() * 256)); }',
        '  return "whsec_" + Buffer.from(bytes).toString("base64");',
        '}',
        'pm.collectionVariables.set("rotatedSecret", randomSecret());',
        'var given = pm.variables.get("receiverSecret");',
        'var theirs = b.data.filter(function (s) { return s.webhookUrl === receiverUrl && s.prefix.indexOf("Postman") !== 0 && s.signatureScheme === "v1"; })[0];',
        'if (given) {',
        '  pm.collectionVariables.set("signingSecret", given);',
        '  pm.test("signing with the environment\'s receiverSecret", function () { pm.expect(given).to.match(/^whsec_/); });',
        '} else if (theirs) {',
        '  jql({ namespace: "system.Webhook", intent: "getWebhookSecret" }, { id: theirs.id }, function (e, s) {',
        '    pm.test("signing with the secret of " + theirs.id + ", already at the receiver", function () {',
        '      pm.expect(s.status).to.eql("OK");',
        '      pm.expect(s.data.secret).to.match(/^whsec_/);',
        '      pm.collectionVariables.set("signingSecret", s.data.secret);',
        '    });',
        '  });',
        '} else {',
        '  pm.collectionVariables.set("signingSecret", randomSecret());',
        '  pm.test("signing with a fresh secret", function () { pm.expect(b.data).to.be.an("array"); });',
        '}',
    ])

customer_items = [
    jql("Create a customer", cust("create", **{"return": {"id": None, "name": None, "email": None, "status": None}}),
        {"name": "Ada Lovelace", "email": "ada.{{$timestamp}}{{$randomInt}}@example.com", "status": "active", "phone": "+44 20 7946 0000", "metadata": {"tier": "gold"}},
        ok() + test("id returned, only the fields asked for",
                    'pm.expect(b.data.id).to.match(/^cus_/);',
                    'pm.expect(Object.keys(b.data).sort()).to.eql(["email", "id", "name", "status"]);')
        + save("customerId", "b.data.id") + save("customerEmail", "b.data.email")),
    jql("Duplicate email is a conflict", cust("create"),
        {"name": "Ada Again", "email": "{{customerEmail}}"}, err(409, "JQL:ConflictException", "email")),
    jql("Missing required fields are all reported", cust("create"), {},
        err(400, "JQL:JqlException") + test("fields named",
            'var f = pm.response.json().errors.map(function (e) { return e.field; });',
            'pm.expect(f).to.include("name");', 'pm.expect(f).to.include("email");')),
    jql("Retrieve the customer", cust("retrieve", uniqueObject={"id": "{{customerId}}"}), {},
        ok() + test("the customer", 'pm.expect(b.data.name).to.eql("Ada Lovelace");', 'pm.expect(b.data.metadata.tier).to.eql("gold");')),
    jql("Retrieve customers with filter, exclude, ordering and paging",
        cust("retrieve", filter={"status": "active", "name__icontains": "ada"}, exclude={"email__endswith": "@example.org"},
             ordering=["-created_at"], limit=10, offset=0, draw=3),
        {"id": None, "name": None},
        ok() + test("filtered list",
                    'pm.expect(b.data).to.be.an("array");', 'pm.expect(b.extras.filtered).to.be.above(0);',
                    'pm.expect(Object.keys(b.data[0]).sort()).to.eql(["id", "name"]);')),
    jql("Search customers", cust("retrieve", search={"value": "lovelace"}, limit=5), {"id": None, "name": None},
        ok() + test("found by search", 'pm.expect(b.data.map(function (c) { return c.id; })).to.include(pm.collectionVariables.get("customerId"));')),
    jql("Retrieve the customer with transformed fields", cust("retrieve", uniqueObject={"id": "{{customerId}}"}),
        {"name": {"__transform__": {"upper": {}}}, "email": {"__transform__": {"truncate": {"length": 3, "ellipsis": "..."}}},
         "created_at": {"__transform__": {"date": {"format": "%Y-%m-%d", "timezone": "UTC"}}}},
        ok() + test("transformed", 'pm.expect(b.data.name).to.eql("ADA LOVELACE");', 'pm.expect(b.data.email).to.match(/^.{3}\\.\\.\\.$/);',
                    'pm.expect(b.data.created_at).to.match(/^\\d{4}-\\d{2}-\\d{2}$/);')),
    jql("Update the customer", cust("update", uniqueObject={"id": "{{customerId}}"}, **{"return": {"id": None, "name": None, "status": None}}),
        {"name": "Ada King", "status": "inactive"},
        ok() + test("updated", 'pm.expect(b.data.name).to.eql("Ada King");', 'pm.expect(b.data.status).to.eql("inactive");')),
]

PREFIX = "PostmanApp{{runId}}"
webhook_items = [
    jql("List the events you can subscribe to", wh("listEvents"), {},
        ok() + test("profile.Customer events with examples",
            'var names = b.data.map(function (e) { return e.name; });',
            'pm.expect(names).to.include.members(["profile.Customer:create", "profile.Customer:update", "profile.Customer:delete"]);',
            'pm.expect(b.data[0].example).to.be.an("object");')),
    jql("Subscribe a webhook (Antly's form, with your own secret)", wh("subscribeToWebhook"),
        {"prefix": PREFIX, "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}", "secret": "{{signingSecret}}"},
        ok() + test("the subscription and its secret",
            'pm.expect(b.data.id).to.match(/^sub_/);',
            'pm.expect(b.data.trigger).to.eql("profile.Customer:create");',
            'pm.expect(b.data.triggers).to.eql(["profile.Customer:create"]);',
            'pm.expect(b.data.enabled).to.eql(true);',
            'pm.expect(b.data.secret).to.eql(pm.collectionVariables.get("signingSecret"));')
        + save("webhookId", "b.data.id")),
    jql("Subscribing again with the same three values returns the same subscription", wh("subscribeToWebhook"),
        {"prefix": PREFIX, "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}", "secret": "{{signingSecret}}"},
        ok() + test("same id", 'pm.expect(b.data.id).to.eql(pm.collectionVariables.get("webhookId"));')),
    jql("Subscribe one endpoint to several triggers (form body, every option)", wh("subscribeToWebhook"),
        {"prefix": PREFIX, "triggers": ["profile.Customer:update", "profile.Customer:delete"],
         "webhookUrl": "{{receiverUrl}}/changes", "secret": "{{signingSecret}}",
         "method": "POST", "contentType": "application/x-www-form-urlencoded", "includeEntity": True,
         "headers": {"X-Tenant": "acme", "X-Tenant-Code": "tenant-code-1234"}, "secretHeaders": ["X-Tenant-Code"],
         "basicAuth": {"username": "crm", "password": "s3cret-password"},
         "retryPolicy": {"schedule": [1, 2, 5]}, "timeoutSeconds": 5, "maxInFlight": 4, "rateLimitPerSecond": 50,
         "filter": {"status": "inactive"}, "ordered": True,
         "bodySignature": {"header": "X-Hub-Signature-256", "algorithm": "sha256"}, "metadata": {"team": "sales"}},
        ok() + test("triggers, options and redactions",
            'pm.expect(b.data.triggers).to.eql(["profile.Customer:update", "profile.Customer:delete"]);',
            'pm.expect(b.data.trigger).to.eql("profile.Customer:update");',
            'pm.expect(b.data.contentType).to.eql("application/x-www-form-urlencoded");',
            'pm.expect(b.data.headers["X-Tenant"]).to.eql("acme");',
            'pm.expect(b.data.headers["X-Tenant-Code"]).to.eql("[redacted]");',
            'pm.expect(b.data.basicAuth).to.eql({ username: "crm" });',
            'pm.expect(b.data.retryPolicy.schedule).to.eql([1, 2, 5]);',
            'pm.expect(b.data.ordered).to.eql(true);')
        + save("multiWebhookId", "b.data.id")),
    jql("Subscribe with Ed25519 signatures (v1a)", wh("subscribeToWebhook"),
        {"prefix": PREFIX + "Signed", "trigger": "profile.Customer:update", "webhookUrl": "{{receiverUrl}}/signed", "signatureScheme": "v1a",
         "filter": {"status": "never-in-this-run"}},
        ok() + test("a whpk_ public key", 'pm.expect(b.data.signatureScheme).to.eql("v1a");', 'pm.expect(b.data.secret).to.match(/^whpk_/);')
        + save("signedWebhookId", "b.data.id")),
    jql("Giving both trigger and triggers is refused", wh("subscribeToWebhook"),
        {"prefix": PREFIX, "trigger": "profile.Customer:create", "triggers": ["profile.Customer:update"], "webhookUrl": "{{receiverUrl}}"},
        err(400, "JQL:JqlException")),
    jql("A weak secret is refused", wh("subscribeToWebhook"),
        {"prefix": "Weak", "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}/weak", "secret": "whsec_cGFzc3dvcmRwYXNzd29yZHBhc3N3b3Jk"},
        err(400, "JQL:JqlException", "secret")),
    jql("Subscribing to a private address is refused", wh("subscribeToWebhook"),
        {"prefix": "Evil", "trigger": "profile.Customer:create", "webhookUrl": "http://169.254.169.254/latest/meta-data"},
        err(400, "JQL:JqlException", "webhookUrl")),
    jql("List my webhooks by prefix", wh("listWebhooks", limit=10), {"prefix": PREFIX},
        ok() + test("listed, without secrets",
            'var ids = b.data.map(function (s) { return s.id; });',
            'pm.expect(ids).to.include.members([pm.collectionVariables.get("webhookId"), pm.collectionVariables.get("multiWebhookId")]);',
            'b.data.forEach(function (s) { pm.expect(s.secret).to.be.undefined; });')),
    jql("Get the webhook", wh("getWebhook"), {"id": "{{webhookId}}"},
        ok() + test("the subscription, without its secret",
            'pm.expect(b.data.id).to.eql(pm.collectionVariables.get("webhookId"));',
            'pm.expect(b.data.webhookUrl).to.eql(pm.variables.get("receiverUrl"));',
            'pm.expect(b.data.secret).to.be.undefined;')),
    jql("Update the webhook", wh("updateWebhook"), {"id": "{{webhookId}}", "headers": {"X-Source": "jqlgate"}, "timeoutSeconds": 15},
        ok() + test("updated", 'pm.expect(b.data.timeoutSeconds).to.eql(15);', 'pm.expect(b.data.headers).to.eql({ "X-Source": "jqlgate" });')),
    jql("Get the webhook secret", wh("getWebhookSecret"), {"id": "{{webhookId}}"},
        ok() + test("the secret given at subscribe",
            'pm.expect(b.data.secret).to.eql(pm.collectionVariables.get("signingSecret"));',
            'pm.expect(b.data.secrets.length).to.eql(1);')),
    jql("Send a test event", wh("testWebhook"), {"id": "{{webhookId}}"},
        ok() + test("the receiver accepted it",
            'pm.expect(b.data.status).to.eql("Done");',
            'pm.expect(b.data.statusCode).to.be.within(200, 299);',
            'pm.expect(b.data.request.headers["X-Webhook-Test"]).to.eql("true");',
            'pm.expect(b.data.request.headers["webhook-signature"]).to.match(/^v1,/);')),
    jql("Create a customer to trigger the webhook", cust("create"),
        {"name": "Grace Hopper", "email": "grace.{{$timestamp}}{{$randomInt}}@example.com"},
        ok() + save("graceId", "b.data.id")),
    # Delivery is asynchronous: the test script asks for the logs again
    # (at most 60 times, 250 ms apart) until the attempt is Done.
    jql("The webhook was delivered (logs of one webhook, polled until Done)", wh("getWebhookLogs"),
        {"id": "{{webhookId}}", "event": "profile.Customer:create", "entityId": "{{graceId}}"},
        ok() + poll({"namespace": "system.Webhook", "intent": "getWebhookLogs"},
                    {"id": "{{webhookId}}", "event": "profile.Customer:create", "entityId": "{{graceId}}", "status": "Done"},
                    "b.data && b.data.length > 0",
                    test("delivered and logged as Done",
                         'pm.expect(b.status).to.eql("OK");',
                         'var a = b.data[0];',
                         'pm.expect(a, "a Done attempt after " + n + " polls").to.be.an("object");',
                         'pm.expect(a.status).to.eql("Done");',
                         'pm.expect(a.event).to.eql("profile.Customer:create");',
                         'pm.expect(a.entityId).to.eql(pm.collectionVariables.get("graceId"));',
                         'pm.expect(a.responseCode).to.eql(200);',
                         'pm.expect(a.request.headers["webhook-signature"]).to.match(/^v1,/);',
                         'pm.collectionVariables.set("deliveryId", a.deliveryId);',
                         'pm.collectionVariables.set("eventId", a.eventId);'))),
    jql("Logs across all webhooks, filtered", wh("getWebhookLogs"),
        {"subscriptionId": "{{webhookId}}", "entityId": "{{graceId}}", "status": "Done", "event": "profile.Customer:create",
         "eventId": "{{eventId}}", "deliveryId": "{{deliveryId}}", "since": "2020-01-01T00:00:00Z", "limit": 10, "offset": 0},
        ok() + test("the attempt, found account-wide",
            'pm.expect(b.data.length).to.eql(1);',
            'pm.expect(b.data[0].deliveryId).to.eql(pm.collectionVariables.get("deliveryId"));',
            'pm.expect(b.data[0].subscriptionId).to.eql(pm.collectionVariables.get("webhookId"));')),
    jql("Logs with a filter that matches nothing", wh("getWebhookLogs"), {"id": "{{webhookId}}", "status": "Failed", "until": "2020-01-01T00:00:00Z"},
        ok() + test("empty", 'pm.expect(b.data).to.eql([]);')),
    jql("The webhook's queue", wh("getWebhookQueue"), {"id": "{{webhookId}}"},
        ok() + test("a list of unfinished deliveries", 'pm.expect(b.data).to.be.an("array");',
                    'b.data.forEach(function (d) { pm.expect(["Queued", "Resent"]).to.include(d.status); });')),
    jql("The queue across all webhooks, filtered", wh("getWebhookQueue"), {"status": "Resent", "event": "profile.Customer:create", "limit": 10},
        ok() + test("a list", 'pm.expect(b.data).to.be.an("array");')),
    jql("Retry the delivery now", wh("retryDelivery"), {"deliveryId": "{{deliveryId}}"},
        ok() + test("queued again", 'pm.expect(b.data.deliveryId).to.eql(pm.collectionVariables.get("deliveryId"));',
                    'pm.expect(b.data.matched).to.eql(1);', 'pm.expect(b.data.queued).to.eql(1);')),
    jql("Retry the webhook's failed deliveries", wh("retryDelivery"), {"id": "{{webhookId}}", "since": "2020-01-01T00:00:00Z"},
        ok() + test("counts", 'pm.expect(b.data.matched).to.be.a("number");', 'pm.expect(b.data.queued).to.be.at.most(b.data.matched);')),
    jql("Replay the event", wh("replayEvent"), {"eventId": "{{eventId}}", "id": "{{webhookId}}"},
        ok() + test("sent again under the same delivery id",
            'pm.expect(b.data.matched).to.eql(1);',
            'pm.expect(b.data.deliveryIds).to.eql([pm.collectionVariables.get("deliveryId")]);')),
    jql("The retried delivery arrives again (polled)", wh("getWebhookLogs"), {"deliveryId": "{{deliveryId}}"},
        ok() + poll({"namespace": "system.Webhook", "intent": "getWebhookLogs"}, {"deliveryId": "{{deliveryId}}", "status": "Done"},
                    "b.data && b.data.length >= 2",
                    test("more attempts of the same delivery",
                         'pm.expect(b.data.length, "Done attempts after " + n + " polls").to.be.at.least(2);',
                         'b.data.forEach(function (a) { pm.expect(a.deliveryId).to.eql(pm.collectionVariables.get("deliveryId")); });'))),
    jql("Disable the webhook", wh("disableWebhook"), {"id": "{{webhookId}}"},
        ok() + test("disabled, with a reason", 'pm.expect(b.data.enabled).to.eql(false);', 'pm.expect(b.data.disabledReason).to.be.a("string");')),
    jql("Enable the webhook", wh("enableWebhook"), {"id": "{{webhookId}}"},
        ok() + test("enabled", 'pm.expect(b.data.enabled).to.eql(true);', 'pm.expect(b.data.disabledReason).to.be.undefined;')),
    jql("Rotate the webhook secret (your own new secret)", wh("rotateWebhookSecret"),
        {"id": "{{webhookId}}", "secret": "{{rotatedSecret}}", "expiresInSeconds": 3600},
        ok() + test("the new secret; the old one signs for an hour",
            'pm.expect(b.data.secret).to.eql(pm.collectionVariables.get("rotatedSecret"));',
            'pm.expect(new Date(b.data.previousExpiresAt).getTime()).to.be.above(Date.now() + 3500 * 1000);')),
    jql("Both secrets sign during the rotation", wh("getWebhookSecret"), {"id": "{{webhookId}}"},
        ok() + test("two secrets",
            'var s = b.data.secrets.map(function (x) { return x.secret; });',
            'pm.expect(s).to.include.members([pm.collectionVariables.get("signingSecret"), pm.collectionVariables.get("rotatedSecret")]);')),
    jql("Rotate to Ed25519 signatures (v1a)", wh("rotateWebhookSecret"), {"id": "{{webhookId}}", "signatureScheme": "v1a", "expiresInSeconds": 60},
        ok() + test("a whpk_ public key", 'pm.expect(b.data.secret).to.match(/^whpk_/);')),
    jql("Rotate a v1a webhook's key", wh("rotateWebhookSecret"), {"id": "{{signedWebhookId}}", "expiresInSeconds": 60},
        ok() + test("a new public key", 'pm.expect(b.data.secret).to.match(/^whpk_/);')),
    jql("Unsubscribe (Antly's form)", wh("unsubscribeFromWebhook"),
        {"prefix": PREFIX, "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}"}, ok()),
    jql("Unsubscribing again is not found", wh("unsubscribeFromWebhook"),
        {"prefix": PREFIX, "trigger": "profile.Customer:create", "webhookUrl": "{{receiverUrl}}"}, err(404, "JQL:NotFoundException")),
    jql("Unsubscribe several triggers", wh("unsubscribeFromWebhook"),
        {"prefix": PREFIX, "triggers": ["profile.Customer:delete", "profile.Customer:update"], "webhookUrl": "{{receiverUrl}}/changes"}, ok()),
    jql("Unsubscribe by id", wh("unsubscribeFromWebhook"), {"id": "{{signedWebhookId}}"}, ok()),
    jql("The removed webhook is not found", wh("getWebhook"), {"id": "{{webhookId}}"}, err(404, "JQL:NotFoundException")),
]

site_items = [
    jql("Create a trusted site", site("createTrustedSite"),
        {"name": "Postman {{runId}}", "baseUrl": "{{receiverOrigin}}/postman", "basicAuth": {"username": "jqlgate", "password": "s3cret-crm-password"}},
        ok() + test("created, without its password",
            'pm.expect(b.data.id).to.match(/^site_/);', 'pm.expect(b.data.authType).to.eql("basic");',
            'pm.expect(b.data.basicAuth).to.eql({ username: "jqlgate" });')
        + save("siteId", "b.data.id")),
    jql("Subscribe through the trusted site", wh("subscribeToWebhook"),
        {"prefix": PREFIX + "Site", "trigger": "profile.Customer:delete", "webhookUrl": "{{receiverOrigin}}/postman/crm",
         "trustedSite": "{{siteId}}", "secret": "{{signingSecret}}"},
        ok() + test("uses the site", 'pm.expect(b.data.trustedSite).to.eql(pm.collectionVariables.get("siteId"));')
        + save("siteWebhookId", "b.data.id")),
    jql("A URL outside the site is refused", wh("subscribeToWebhook"),
        {"prefix": PREFIX + "Site", "trigger": "profile.Customer:delete", "webhookUrl": "{{receiverOrigin}}/elsewhere", "trustedSite": "{{siteId}}"},
        err(400, "JQL:JqlException", "webhookUrl")),
    jql("List trusted sites", site("listTrustedSites"), {},
        ok() + test("listed", 'pm.expect(b.data.map(function (s) { return s.id; })).to.include(pm.collectionVariables.get("siteId"));')),
    jql("Get the trusted site", site("getTrustedSite"), {"id": "{{siteId}}"},
        ok() + test("with its subscriptions",
            'pm.expect(b.data.subscriptions.map(function (s) { return s.id; })).to.eql([pm.collectionVariables.get("siteWebhookId")]);')),
    jql("Update the trusted site", site("updateTrustedSite"), {"id": "{{siteId}}", "basicAuth": {"username": "jqlgate", "password": "n3w-crm-password"}},
        ok() + test("updated", 'pm.expect(b.data.id).to.eql(pm.collectionVariables.get("siteId"));', 'pm.expect(b.data.basicAuth.password).to.be.undefined;')),
    jql("Delete the customer (its delete event goes through the site)", cust("deleteOne", uniqueObject={"id": "{{customerId}}"}), {}, ok()),
    jql("The deleted customer is not found", cust("retrieve", uniqueObject={"id": "{{customerId}}"}), {}, err(404, "JQL:NotFoundException")),
    jql("The delete event was delivered through the site (polled)", wh("getWebhookLogs"), {"id": "{{siteWebhookId}}"},
        ok() + poll({"namespace": "system.Webhook", "intent": "getWebhookLogs"},
                    {"id": "{{siteWebhookId}}", "event": "profile.Customer:delete", "status": "Done"},
                    "b.data && b.data.length > 0",
                    test("Done, the credentials not logged",
                         'pm.expect(b.data.length, "Done after " + n + " polls").to.be.above(0);',
                         'pm.expect(b.data[0].entityId).to.eql(pm.collectionVariables.get("customerId"));',
                         'pm.expect(b.data[0].request.headers.Authorization).to.be.undefined;'))),
    jql("A site in use can't be deleted", site("deleteTrustedSite"), {"id": "{{siteId}}"}, err(409, "JQL:ConflictException")),
    jql("Unsubscribe the site's webhook", wh("unsubscribeFromWebhook"), {"id": "{{siteWebhookId}}"}, ok()),
    jql("Delete the trusted site", site("deleteTrustedSite"), {"id": "{{siteId}}"}, ok()),
    jql("The deleted site is not found", site("getTrustedSite"), {"id": "{{siteId}}"}, err(404, "JQL:NotFoundException")),
]


def cred(ns, intent, **extra):
    return m(ns, "controller", intent, **extra)


admin_items = [
    jql("Create a client", cred("system.Client", "createClient"), {"name": "postman-{{runId}}", "scope": "profile.Customer:retrieve"},
        ok() + test("secret shown once", 'pm.expect(b.data.id).to.eql(b.data.clientId);', 'pm.expect(b.data.clientSecret).to.be.a("string");',
                    'pm.expect(b.data.permissions).to.eql(["profile.Customer:retrieve"]);')
        + save("newClientId", "b.data.id") + save("newClientSecret", "b.data.clientSecret")),
    jql("List clients", cred("system.Client", "listClients", limit=100), {},
        ok() + test("listed without secrets",
            'var c = b.data.filter(function (c) { return c.id === pm.collectionVariables.get("newClientId"); })[0];',
            'pm.expect(c.name).to.eql("postman-" + pm.collectionVariables.get("runId"));', 'pm.expect(c.clientSecret).to.be.undefined;')),
    jql("Update the client's permissions", cred("system.Client", "updateClient"), {"id": "{{newClientId}}", "scope": "profile.Customer:*"},
        ok() + test("replaced", 'pm.expect(b.data.scope).to.eql("profile.Customer:*");')),
    jql("Rotate the client secret", cred("system.Client", "rotateClientSecret"), {"id": "{{newClientId}}"},
        ok() + test("a new secret", 'pm.expect(b.data.clientSecret).to.not.eql(pm.collectionVariables.get("newClientSecret"));')
        + save("newClientSecret", "b.data.clientSecret")
        + ['pm.sendRequest({ url: pm.variables.get("baseUrl") + "/oauth2/token", method: "POST",',
           '  header: { "Content-Type": "application/x-www-form-urlencoded" },',
           '  body: { mode: "urlencoded", urlencoded: [{ key: "grant_type", value: "client_credentials" },',
           '    { key: "client_id", value: b.data.id }, { key: "client_secret", value: b.data.clientSecret }] } }, function (e, res) {',
           '  pm.test("the new secret gets a token with the new scope", function () {',
           '    pm.expect(res.code).to.eql(200);',
           '    pm.expect(res.json().scope).to.eql("profile.Customer:*");',
           '  });',
           '});']),
    jql("Delete the client", cred("system.Client", "deleteClient"), {"id": "{{newClientId}}"}, ok()),
    jql("Deleting it again is not found", cred("system.Client", "deleteClient"), {"id": "{{newClientId}}"}, err(404, "JQL:NotFoundException")),

    jql("Create an API key", cred("system.ApiKey", "createApiKey"), {"name": "postman-{{runId}}", "scope": "profile.Customer:retrieve"},
        ok() + test("key shown once", 'pm.expect(b.data.id).to.match(/^ak_/);', 'pm.expect(b.data.apiKey).to.match(/^jqk_/);')
        + save("apiKeyId", "b.data.id") + save("apiKey", "b.data.apiKey")),
    jql("Call with the API key", cust("retrieve", token="{{apiKey}}", cls="apiKey", limit=1), {}, ok()),
    jql("The API key may not write", cust("create", token="{{apiKey}}", cls="apiKey"), {"name": "No", "email": "no.{{$timestamp}}@example.com"},
        err(403, "JQL:AuthorizationException")),
    jql("List API keys", cred("system.ApiKey", "listApiKeys", limit=100), {},
        ok() + test("listed without keys",
            'var k = b.data.filter(function (k) { return k.id === pm.collectionVariables.get("apiKeyId"); })[0];',
            'pm.expect(k.scope).to.eql("profile.Customer:retrieve");', 'pm.expect(k.apiKey).to.be.undefined;')),
    jql("Update the API key's permissions", cred("system.ApiKey", "updateApiKey"), {"id": "{{apiKeyId}}", "scope": "profile.Customer:*"},
        ok() + test("replaced", 'pm.expect(b.data.permissions).to.eql(["profile.Customer:*"]);')),
    jql("Rotate the API key", cred("system.ApiKey", "rotateApiKey"), {"id": "{{apiKeyId}}"},
        ok() + test("a new key", 'pm.expect(b.data.apiKey).to.match(/^jqk_/);', 'pm.expect(b.data.apiKey).to.not.eql(pm.collectionVariables.get("apiKey"));')
        + save("oldApiKey", 'pm.collectionVariables.get("apiKey")') + save("apiKey", "b.data.apiKey")),
    jql("The old API key no longer works", cust("retrieve", token="{{oldApiKey}}", cls="apiKey", limit=1), {}, err(401, "JQL:AuthenticationException")),
    jql("Delete the API key", cred("system.ApiKey", "deleteApiKey"), {"id": "{{apiKeyId}}"}, ok()),
    jql("The deleted API key no longer works", cust("retrieve", token="{{apiKey}}", cls="apiKey", limit=1), {}, err(401, "JQL:AuthenticationException")),

    jql("Create a user", cred("system.User", "createUser"),
        {"username": "postman{{runId}}", "password": "a long and secret passphrase", "scope": "profile.Customer:retrieve"},
        ok() + test("created, no password shown", 'pm.expect(b.data.id).to.match(/^usr_/);', 'pm.expect(b.data.password).to.be.undefined;')
        + save("userId", "b.data.id")),
    jql("Log in as the user (authenticate)", {"namespace": "system.User", "schema": "controller", "intent": "authenticate", "return": {"token": None}},
        {"username": "postman{{runId}}", "password": "a long and secret passphrase"},
        ok() + test("a jwt", 'pm.expect(b.data.token.split(".").length).to.eql(3);') + save("userToken", "b.data.token")),
    jql("Call as the user (authenticationClass jwt)", cust("retrieve", token="{{userToken}}", cls="jwt", limit=1), {}, ok()),
    jql("A wrong password is refused", {"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
        {"username": "postman{{runId}}", "password": "wrong"}, err(401, "JQL:AuthenticationException")),
    jql("List users", cred("system.User", "listUsers", limit=100), {},
        ok() + test("listed", 'pm.expect(b.data.map(function (u) { return u.id; })).to.include(pm.collectionVariables.get("userId"));')),
    jql("Update the user's permissions", cred("system.User", "updateUser"), {"id": "{{userId}}", "scope": "profile.Customer:*"},
        ok() + test("replaced", 'pm.expect(b.data.scope).to.eql("profile.Customer:*");')),
    jql("Rotate the user's password (generated)", cred("system.User", "rotateUserPassword"), {"id": "{{userId}}"},
        ok() + test("a generated password, shown once", 'pm.expect(b.data.password).to.be.a("string");')
        + save("userPassword", "b.data.password")),
    jql("Log in with the new password", {"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
        {"username": "postman{{runId}}", "password": "{{userPassword}}"}, ok()),
    jql("Delete the user", cred("system.User", "deleteUser"), {"id": "{{userId}}"}, ok()),
    jql("The deleted user can't log in", {"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
        {"username": "postman{{runId}}", "password": "{{userPassword}}"}, err(401, "JQL:AuthenticationException")),
]

error_items = [
    jql("No token is 401", {"namespace": "profile.Customer", "schema": "model", "intent": "retrieve"}, {}, err(401, "JQL:AuthenticationException")),
    jql("A bad token is 401", cust("retrieve", token="not.a.token"), {}, err(401, "JQL:AuthenticationException")),
    jql("Unknown namespace is 404", m("nothing.Here", "model", "retrieve"), {}, err(404, "JQL:NotFoundException")),
    jql("Unknown intent is 400", cust("explode"), {}, err(400, "JQL:JqlException")),
    jql("Unknown __meta__ key is 400", cust("retrieve", limt=10), {}, err(400, "JQL:JqlException")),
    {
        "name": "Malformed JSON is 400",
        "request": {"method": "POST", "header": [{"key": "Content-Type", "value": "application/json"}],
                    "url": "{{baseUrl}}/jql", "body": {"mode": "raw", "raw": "{\"__meta__\": {"}},
        "event": [{"listen": "test", "script": script(err(400, "JQL:JqlException"))}],
    },
]

def tickets(model, intent, **extra):
    return m("tickets." + model, "model", intent, **extra)


relation_items = [
    jql("Create a category", tickets("Category", "create"), {"name": "Hardware {{$timestamp}}"},
        ok() + save("categoryId", "b.data.id")),
    jql("Create a subcategory", tickets("Category", "create"), {"name": "Laptops {{$timestamp}}", "parent": "{{categoryId}}"},
        ok() + save("subcategoryId", "b.data.id") + test("parent kept", 'pm.expect(b.data.parent).to.eql(pm.collectionVariables.get("categoryId"));')),
    jql("Create a ticket", tickets("Ticket", "create"), {"title": "Screen flickers", "hours": 1.5, "category": "{{subcategoryId}}"},
        ok() + save("ticketId", "b.data.id")),
    jql("Retrieve the ticket with its category and that category's parent", tickets("Ticket", "retrieve", uniqueObject={"id": "{{ticketId}}"}),
        {"title": None, "category": {"name": None, "parent": {"name": None}}},
        ok() + test("nested", 'pm.expect(b.data.category.parent.name).to.match(/^Hardware/);')),
    jql("Count the subcategories of each category (Antly's aggregation example)",
        tickets("Category", "retrieve", filter={"id": "{{categoryId}}"}, ordering=["pk"], limit=10, offset=0),
        {"name": None, "subcategories": {"name": None},
         "subcategoriesCount": {"__meta__": {"namespace": "tickets.Category", "intent": "subquery", "ordering": "name", "onField": "id",
                                             "outerRefMapping": [{"field": "id", "referenceField": "parent"}],
                                             "sequencedProcess": [{"function": "Count", "castType": "int", "onField": "id"}]}}},
        ok() + test("counted", 'pm.expect(b.data[0].subcategoriesCount).to.eql(1);', 'pm.expect(b.data[0].subcategories.length).to.eql(1);')),
]

items = [
    folder("Tokens and schema", "OAuth2 client credentials, and system.Schema describe.", token_items),
    folder("profile.Customer", "The model intents: create, retrieve, update (deleteOne is under Trusted sites).", [choose_secret] + customer_items),
    folder("system.Webhook", "Every webhook intent, with a real delivery to the receiver at receiverUrl.", webhook_items),
    folder("system.TrustedSite", "Trusted sites, and a subscription that uses one.", site_items),
    folder("system.Client, system.ApiKey, system.User", "The admin intents, and calling with each credential.", admin_items),
    folder("Errors", "The error envelope.", error_items),
]

VARIABLES = ("token", "tokenExpiresAt", "previousToken", "runId", "receiverOrigin", "signingSecret", "rotatedSecret",
             "customerId", "customerEmail", "graceId", "webhookId", "multiWebhookId", "signedWebhookId", "deliveryId", "eventId",
             "siteId", "siteWebhookId", "newClientId", "newClientSecret", "apiKeyId", "apiKey", "oldApiKey",
             "userId", "userToken", "userPassword")

collection = {
    "info": {
        "name": "jqlgate",
        "description": ("jqlgate's JQL API end to end: every intent system.Schema describe lists, with tests on each answer. "
                        "Run top to bottom against `jqlgate serve` (a client with `*`) and a receiver at receiverUrl "
                        "(`jqlgate listen`). A collection pre-request script fetches a client-credentials token when none "
                        "is cached or it expires within a minute. The collection's subscriptions are signed with receiverSecret "
                        "when set, else with the secret of your existing subscription to receiverUrl (the quickstart's), "
                        "else with a fresh secret."),
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "event": [{"listen": "prerequest", "script": script(COLLECTION_PREREQUEST)}],
    "item": items,
    "variable": [{"key": k, "value": ""} for k in VARIABLES],
}
env = {"name": "jqlgate local", "values": [
    {"key": "baseUrl", "value": "http://127.0.0.1:8080", "enabled": True},
    {"key": "clientId", "value": "admin", "enabled": True},
    {"key": "clientSecret", "value": "change-me-admin-secret", "enabled": True},
    {"key": "receiverUrl", "value": "http://127.0.0.1:9000/webhooks", "enabled": True},
    {"key": "receiverSecret", "value": "", "enabled": True},
]}
with open("jqlgate.postman_collection.json", "w") as f:
    json.dump(collection, f, indent=2)
    f.write("\n")
# Related records need the example models: a collection of their own, run
# against `serve --schema-dir examples/schemas` (npm run test:relations).
relations = {
    "info": {
        "name": "jqlgate related records",
        "description": ("References, nested fields, reverse accessors and aggregation fields on the example models "
                        "tickets.Category and tickets.Ticket: run against `jqlgate serve --schema-dir examples/schemas`."),
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "event": [{"listen": "prerequest", "script": script(COLLECTION_PREREQUEST)}],
    "item": [folder("tickets.Category and tickets.Ticket", "Related records.", relation_items)],
    "variable": [{"key": k, "value": ""} for k in VARIABLES + ("categoryId", "subcategoryId", "ticketId")],
}
with open("jqlgate-relations.postman_collection.json", "w") as f:
    json.dump(relations, f, indent=2)
    f.write("\n")
with open("jqlgate.postman_environment.json", "w") as f:
    json.dump(env, f, indent=2)
    f.write("\n")
