"""Times nested, reverse-accessor and aggregating retrieves over HTTP.

Start serve with the example schemas and a bootstrap client, then run
python3 bench/relations.py PORT TICKETS CATEGORIES [skip]:

  JQLGATE_BOOTSTRAP_CLIENT_ID=admin JQLGATE_BOOTSTRAP_CLIENT_SECRET=agg-bench-admin-secret-0123456789 \
    jqlgate serve --data-dir DIR --addr 127.0.0.1:18940 --rate-limit -1 --schema-dir examples/schemas
  python3 bench/relations.py 18940 100000 1000

It creates CATEGORIES top categories with one subcategory each and TICKETS
tickets spread over them (skip reuses a store already filled), then prints
p50 and p90 of 20 retrieves of each kind.
"""
import http.client, json, sys, time, threading, statistics, urllib.parse, base64
PORT=int(sys.argv[1]); N=int(sys.argv[2]); CATS=int(sys.argv[3])
def conn(): return http.client.HTTPConnection("127.0.0.1", PORT)
c=conn()
c.request("POST","/oauth2/token",body="grant_type=client_credentials",headers={"Authorization":"Basic "+base64.b64encode(b"admin:agg-bench-admin-secret-0123456789").decode(),"Content-Type":"application/x-www-form-urlencoded"})
TOK=json.loads(c.getresponse().read())["access_token"]
def jql(cn, ns, intent, fields, meta=None):
    m={"namespace":ns,"schema":"model","intent":intent,"authenticationClass":"oauth2","authenticationToken":TOK}
    if meta: m.update(meta)
    body=dict(fields); body["__meta__"]=m
    cn.request("POST","/jql",body=json.dumps(body),headers={"Content-Type":"application/json"})
    r=cn.getresponse(); d=json.loads(r.read())
    if r.status!=200: raise Exception(d)
    return d
SKIP=len(sys.argv)>4
cats=[]
for i in ([] if SKIP else range(CATS)):
    cats.append(jql(c,"tickets.Category","create",{"name":"Cat %d"%i})["data"]["id"])
for i in ([] if SKIP else range(CATS)):  # one subcategory each
    jql(c,"tickets.Category","create",{"name":"Sub %d"%i,"parent":cats[i]})
nxt=[0]; lock=threading.Lock()
def worker():
    cn=conn()
    while True:
        with lock:
            i=nxt[0]; nxt[0]+=1
        if i>=N: return
        jql(cn,"tickets.Ticket","create",{"title":"T%d"%i,"status":["open","pending","closed"][i%3],"priority":1+i%5,"hours":i%7,"category":cats[i%CATS]})
if SKIP: N=0
t0=time.time(); ths=[threading.Thread(target=worker) for _ in range(16)]
[t.start() for t in ths]; [t.join() for t in ths]
print("created %d tickets in %.1fs"%(N,time.time()-t0))
def timed(name, ns, fields, meta):
    lat=[]
    for _ in range(20):
        s=time.time(); jql(c,ns,"retrieve",fields,meta); lat.append((time.time()-s)*1000)
    lat.sort(); print("%-60s p50 %.2f ms  p90 %.2f ms"%(name, lat[10], lat[18]))
timed("tickets, 20, plain", "tickets.Ticket", {"title":None,"category":None}, {"limit":20})
timed("tickets, 20, nested category name", "tickets.Ticket", {"title":None,"category":{"name":None}}, {"limit":20})
timed("tickets, 20, nested category and its parent", "tickets.Ticket", {"title":None,"category":{"name":None,"parent":{"name":None}}}, {"limit":20})
agg={"__meta__":{"namespace":"tickets.Ticket","intent":"subquery","outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Count"}]}}
timed("categories, 20, ticket count (100 tickets each)", "tickets.Category", {"name":None,"ticketCount":agg}, {"limit":20,"filter":{"parent__isnull":True}})
agg2={"__meta__":{"namespace":"tickets.Ticket","intent":"subquery","filter":{"status":"open"},"outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Sum","onField":"hours"}]}}
timed("categories, 20, count + open hours", "tickets.Category", {"name":None,"ticketCount":agg,"openHours":agg2}, {"limit":20,"filter":{"parent__isnull":True}})
timed("categories, 20, subcategories (reverse accessor)", "tickets.Category", {"name":None,"subcategories":{"name":None}}, {"limit":20,"filter":{"parent__isnull":True}})
