package sqlite

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// principalTables are the tables of the principals that own subscriptions.
var principalTables = map[string]string{
	jqlgate.PrincipalClient: "auth_clients",
	jqlgate.PrincipalAPIKey: "auth_api_keys",
	jqlgate.PrincipalUser:   "auth_users",
}

// DeletePrincipal deletes the client, API key or user kind:id and disables
// every subscription it owns with reason, in one transaction: a crash
// never leaves the principal gone and its subscriptions enabled. It
// returns how many subscriptions it disabled; ENOTFOUND when there is no
// such principal.
func (s *AuthStore) DeletePrincipal(ctx context.Context, kind, id, reason string) (int, error) {
	table := principalTables[kind]
	if table == "" {
		return 0, jqlgate.Errorf(jqlgate.EINVALID, "%q is not a kind of principal.", kind)
	}
	var n int64
	err := s.db.Write(ctx, func(tx *Tx) error {
		if err := execOneBumps(tx, principalCounters, `DELETE FROM `+table+` WHERE id = ?`, id); err != nil {
			return err
		}
		res, err := tx.Exec(disableOwnedSubs, reason, nanos(disabledAt(tx)), kind+":"+id)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return bumpVersion(tx, subscriptionsVersion)
	})
	if err != nil {
		return 0, FormatError("sqlite.AuthStore.DeletePrincipal", err)
	}
	return int(n), nil
}
