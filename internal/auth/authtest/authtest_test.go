package authtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/auth/authtest"
	"github.com/heraldreports/herald/internal/herald"
)

func TestIssuerTokens(t *testing.T) {
	iss := authtest.New(t)
	v := iss.Validator()
	p, err := v.Validate(context.Background(), iss.Token("t1", "admin", authtest.Subject("bob"), authtest.Name("Bob")))
	require.NoError(t, err)
	assert.Equal(t, herald.Principal{TenantID: "t1", Subject: "bob", Name: "Bob", Roles: []herald.Role{herald.RoleAdmin}}, p)

	p, err = v.Validate(context.Background(), iss.Sign(iss.Claims("t2", "viewer")))
	require.NoError(t, err)
	assert.Equal(t, "t2", p.TenantID)
	assert.Equal(t, authtest.DefaultSubject, p.Subject)

	bad := map[string]string{
		"Expired":            iss.Expired("t1", "admin"),
		"NotYetValid":        iss.NotYetValid("t1", "admin"),
		"WrongAudience":      iss.WrongAudience("t1", "admin"),
		"WrongIssuer":        iss.WrongIssuer("t1", "admin"),
		"AlgNone":            iss.AlgNone("t1", "admin"),
		"HS256WithPublicKey": iss.HS256WithPublicKey("t1", "admin"),
		"UnknownKID":         iss.UnknownKID("t1", "admin"),
		"BadSignature":       iss.BadSignature("t1", "admin"),
	}
	for name, tok := range bad {
		_, err := v.Validate(context.Background(), tok)
		assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "%s: %v", name, err)
	}
	_, err = v.Validate(context.Background(), iss.NoRole("t1"))
	assert.True(t, herald.Is(err, herald.CodeForbidden), "%v", err)

	_, err = authtest.New(t).Validator().Validate(context.Background(), iss.Token("t1", "admin"))
	assert.True(t, herald.Is(err, herald.CodeUnauthenticated), "another issuer's validator rejects the token: %v", err)
}
