package statenode

import (
	"fmt"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// audienceFromProto reads a wire bulletin's confidential audience and
// translations into b; bulletin validation checks them afterwards.
func audienceFromProto(p *iantv1.Bulletin, b *bulletin.Bulletin) error {
	b.ConfidentialAudience = p.GetConfidentialAudience()
	for i, t := range p.GetTranslations() {
		at, err := timeOf(t.GetAddTime(), fmt.Sprintf("translations[%d].add_time", i))
		if err != nil {
			return err
		}
		b.Translations = append(b.Translations, bulletin.Translation{
			Language: bulletin.Language(t.GetLanguage()), Title: t.GetTitle(), Body: t.GetBody(),
			By: t.GetBy(), Translator: t.GetTranslator(), At: at,
		})
	}
	return nil
}

// audienceToProto writes b's confidential audience and translations to p.
func audienceToProto(b *bulletin.Bulletin, p *iantv1.Bulletin) {
	p.ConfidentialAudience = b.ConfidentialAudience
	for _, t := range b.Translations {
		p.Translations = append(p.Translations, &iantv1.Translation{
			Language: iantv1.Language(t.Language), Title: t.Title, Body: t.Body,
			By: t.By, Translator: t.Translator, AddTime: tsOf(t.At),
		})
	}
}

// forRecipients is what a bulletin's content says to its recipients: for
// a confidential audience, neither its releasability nor its recipients
// (every recipient decrypts the same content; the node shows each its own
// state, from the sealed copy). The origin keeps the full bulletin.
func forRecipients(b *bulletin.Bulletin) *bulletin.Bulletin {
	if !b.ConfidentialAudience {
		return b
	}
	c := *b
	c.Releasability, c.Recipients = bulletin.Releasability{}, nil
	return &c
}
