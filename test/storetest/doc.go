// Package storetest is the store contract: one suite per store interface
// (records, deliveries, subscriptions, trusted sites, principals, export),
// each a function that takes a constructor of a fresh, empty store. Both
// adapters run every suite unchanged, sqlite/ on a temporary database and
// mongodb/ on the database test/mongotest gives (FerretDB in process, or
// MONGODB_URI), so the two stay one contract.
package storetest
