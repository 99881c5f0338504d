package org.lora4j.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConfigTest {
    @TempDir
    Path dir;

    private TokenizerConfig load(String json) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), json);
        return TokenizerConfig.load(dir);
    }

    @Test
    void stringTokens() throws Exception {
        TokenizerConfig c = load("""
                {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": null,
                 "add_bos_token": true, "chat_template": "{{ bos_token }}", "model_max_length": 131072}""");
        assertEquals(new TokenizerConfig("<|begin_of_text|>", "<|eot_id|>", null, null, true, false, "{{ bos_token }}", 131072), c);
    }

    @Test
    void addedTokenObjects() throws Exception {
        TokenizerConfig c = load("""
                {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": true,
                               "rstrip": false, "single_word": false},
                 "eos_token": {"content": "</s>", "lstrip": false}, "unk_token": {"content": "<unk>"},
                 "pad_token": "<unk>", "add_bos_token": true, "add_eos_token": false}""");
        assertEquals("<s>", c.bosToken());
        assertEquals("</s>", c.eosToken());
        assertEquals("<unk>", c.unkToken());
        assertEquals("<unk>", c.padToken());
        assertTrue(c.addBosToken());
        assertFalse(c.addEosToken());
        assertNull(c.chatTemplate());
        assertEquals(-1, c.modelMaxLength());
    }

    @Test
    void listFormChatTemplateTakesDefault() throws Exception {
        TokenizerConfig c = load("""
                {"chat_template": [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": "DEFAULT"},
                                   {"name": "rag", "template": "RAG"}]}""");
        assertEquals("DEFAULT", c.chatTemplate());

        TokenizerException e = assertThrows(TokenizerException.class,
                () -> load("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}]}"));
        assertTrue(e.getMessage().contains("tool_use") && e.getMessage().contains("--chat-template"), e.getMessage());
    }

    @Test
    void missingFileGivesDefaults() {
        assertEquals(new TokenizerConfig(null, null, null, null, false, false, null, -1), TokenizerConfig.load(dir));
        assertEquals(TokenizerConfig.defaults(), TokenizerConfig.load(dir.resolve("no/such/folder")));
    }

    @Test
    void hugeModelMaxLengthMeansNoLimit() throws Exception {
        assertEquals(-1, load("{\"model_max_length\": 1000000000000000019884624838656}").modelMaxLength());
        assertEquals(-1, load("{\"model_max_length\": 1e30}").modelMaxLength());
        assertEquals(4096, load("{\"model_max_length\": 4096}").modelMaxLength());
    }

    @Test
    void chatTemplateBesideTheConfig() throws Exception {
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages[0].content }}\n");
        assertEquals("{{ messages[0].content }}\n", load("{\"eos_token\": \"</s>\"}").chatTemplate());
        assertEquals("OWN", load("{\"chat_template\": \"OWN\"}").chatTemplate(), "the config's own template wins");
        Files.delete(dir.resolve("chat_template.jinja"));
        Files.writeString(dir.resolve("chat_template.json"), "{\"chat_template\": \"FROM JSON\"}");
        assertEquals("FROM JSON", load("{}").chatTemplate());
    }

    @Test
    void malformedValuesNameFileKeyAndValue() throws Exception {
        TokenizerException json = assertThrows(TokenizerException.class, () -> load("{\"bos_token\": "));
        assertTrue(json.getMessage().contains("tokenizer_config.json is not valid JSON"), json.getMessage());
        TokenizerException token = assertThrows(TokenizerException.class, () -> load("{\"bos_token\": 5}"));
        assertTrue(token.getMessage().contains("bos_token") && token.getMessage().contains("found 5"), token.getMessage());
        TokenizerException flag = assertThrows(TokenizerException.class, () -> load("{\"add_bos_token\": \"yes\"}"));
        assertTrue(flag.getMessage().contains("add_bos_token must be true or false"), flag.getMessage());
        assertThrows(TokenizerException.class, () -> load("[1, 2]"));
    }

    @Test
    void writtenConfigReadsBack() {
        ByteLevelBpeTrainer.writeTokenizerConfig(dir.resolve("tokenizer_config.json"), "<s>", "</s>", null, true,
                ChatTemplates.MISTRAL);
        TokenizerConfig c = TokenizerConfig.load(dir);
        assertEquals(new TokenizerConfig("<s>", "</s>", null, null, true, false, ChatTemplates.MISTRAL, 131072), c);
    }
}
