package statenode

import (
	"fmt"

	"github.com/oas-cicte/iant/pkg/problem"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// ownTranslations marks the translations of an author's draft as the
// origin's, made by author: a draft carries no other state's translation
// and says nothing of when it was added.
func ownTranslations(b *bulletin.Bulletin, state, author string) error {
	for i := range b.Translations {
		t := &b.Translations[i]
		switch {
		case t.By != "" && t.By != state:
			return problem.Invalid(fmt.Sprintf("translations[%d].by", i), "a draft's translations are %s's own; leave by empty", state)
		case t.Translator != "":
			return problem.Invalid(fmt.Sprintf("translations[%d].translator", i), "the translator is taken from your certificate; leave it empty")
		case !t.At.IsZero():
			return problem.Invalid(fmt.Sprintf("translations[%d].add_time", i), "a draft's translations are posted with it; leave add_time empty")
		}
		t.By, t.Translator = state, author
	}
	return nil
}

// audienceFromProto reads a wire bulletin's confidential audience and
// translations into b; bulletin validation checks them afterwards.
func audienceFromProto(p *iantv1.Bulletin, b *bulletin.Bulletin) error {
	b.ConfidentialAudience = p.GetConfidentialAudience()
	for i, t := range p.GetTranslations() {
		tr, err := translationFromProto(t, fmt.Sprintf("translations[%d]", i))
		if err != nil {
			return err
		}
		b.Translations = append(b.Translations, tr)
	}
	if t := p.GetTranslated(); t != nil {
		tr, err := translationFromProto(t.GetTranslation(), "translated.translation")
		if err != nil {
			return err
		}
		b.Translated = &bulletin.Translated{Of: bulletin.Ref{Origin: t.GetOf().GetOrigin(), ID: t.GetOf().GetId()},
			Revision: int(t.GetRevision()), Translation: tr}
	}
	return nil
}

// translationFromProto converts one translation, naming field.
func translationFromProto(t *iantv1.Translation, field string) (bulletin.Translation, error) {
	at, err := timeOf(t.GetAddTime(), field+".add_time")
	if err != nil {
		return bulletin.Translation{}, err
	}
	return bulletin.Translation{Language: bulletin.Language(t.GetLanguage()), Title: t.GetTitle(), Body: t.GetBody(),
		By: t.GetBy(), Translator: t.GetTranslator(), At: at}, nil
}

// translationToProto converts one translation.
func translationToProto(t *bulletin.Translation) *iantv1.Translation {
	return &iantv1.Translation{Language: iantv1.Language(t.Language), Title: t.Title, Body: t.Body,
		By: t.By, Translator: t.Translator, AddTime: tsOf(t.At)}
}

// audienceToProto writes b's confidential audience and translations to p.
func audienceToProto(b *bulletin.Bulletin, p *iantv1.Bulletin) {
	p.ConfidentialAudience = b.ConfidentialAudience
	for i := range b.Translations {
		p.Translations = append(p.Translations, translationToProto(&b.Translations[i]))
	}
	if t := b.Translated; t != nil {
		p.Translated = &iantv1.Translated{Of: &iantv1.BulletinRef{Origin: t.Of.Origin, Id: t.Of.ID},
			Revision: uint32(t.Revision), Translation: translationToProto(&t.Translation)}
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
