// Package webhook serves system.Webhook: subscribing and unsubscribing,
// managing subscriptions (list, get, update, enable, disable, secrets and
// their rotation), the event catalogue, and the operator intents over the
// dispatcher's records (getWebhookLogs, getWebhookQueue, retryDelivery,
// replayEvent, testWebhook). It owns the checks of a subscription's form,
// receiver and trusted site; it stores through Store and reaches the
// dispatcher through Notifier and Operations, interfaces it declares and
// cmd/jqlgate satisfies. It imports the root, schemas, namespaces and
// namespaces/input, never another namespace package.
package webhook
