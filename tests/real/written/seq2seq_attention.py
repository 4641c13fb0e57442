# Written for stepjit's test corpus in the style of the sequence-to-sequence translation
# tutorials: sentence pairs turned into padded index tensors, a GRU encoder (batch_first),
# a GRU decoder with additive (Bahdanau) attention computed with bmm and softmax, decoding
# unrolled for a fixed length with topk(1) feeding the next input (or the target, teacher
# forcing), log_softmax + NLLLoss over the flattened outputs, and two Adam optimizers.
import random

import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit.utils.data import DataLoader, RandomSampler, TensorDataset

device = torch.device("cpu")
SOS_token = 0
EOS_token = 1
MAX_LENGTH = 6

pairs = [("je suis grand", "i am tall"), ("il est petit", "he is short"),
         ("elle est ici", "she is here"), ("nous sommes la", "we are there"),
         ("je suis ici", "i am here"), ("il est grand", "he is tall"),
         ("elle est petite", "she is short"), ("nous sommes ici", "we are here")]


class Lang:
    def __init__(self):
        self.word2index = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2

    def addSentence(self, sentence):
        for word in sentence.split(' '):
            if word not in self.word2index:
                self.word2index[word] = self.n_words
                self.index2word[self.n_words] = word
                self.n_words += 1


input_lang, output_lang = Lang(), Lang()
for src, tgt in pairs:
    input_lang.addSentence(src)
    output_lang.addSentence(tgt)


def indexesFromSentence(lang, sentence):
    return [lang.word2index[word] for word in sentence.split(' ')]


n = len(pairs)
input_ids = torch.zeros((n, MAX_LENGTH), dtype=torch.long)
target_ids = torch.zeros((n, MAX_LENGTH), dtype=torch.long)
for idx, (src, tgt) in enumerate(pairs):
    inp = indexesFromSentence(input_lang, src) + [EOS_token]
    tgt_ids = indexesFromSentence(output_lang, tgt) + [EOS_token]
    input_ids[idx, :len(inp)] = torch.tensor(inp)
    target_ids[idx, :len(tgt_ids)] = torch.tensor(tgt_ids)

train_data = TensorDataset(input_ids, target_ids)
train_dataloader = DataLoader(train_data, sampler=RandomSampler(train_data), batch_size=4)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long,
                                    device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


hidden_size = 16
encoder = EncoderRNN(input_lang.n_words, hidden_size).to(device)
decoder = AttnDecoderRNN(hidden_size, output_lang.n_words).to(device)
encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=0.001)
decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=0.001)
criterion = nn.NLLLoss()

for epoch in range(1, 4):
    total_loss = 0
    for data in train_dataloader:
        input_tensor, target_tensor = data
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        use_teacher_forcing = epoch % 2 == 1
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden,
                                        target_tensor if use_teacher_forcing else None)

        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                         target_tensor.view(-1))
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()
        total_loss += loss.item()
    print('epoch %d loss %.4f' % (epoch, total_loss / len(train_dataloader)))

encoder.eval()
decoder.eval()
with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(input_ids[:1])
    decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden)
    _, topi = decoder_outputs.topk(1)
    words = [output_lang.index2word[i.item()] for i in topi.squeeze()]
    print(' '.join(words), attn.shape)
